"""The range each exposed point gets (OPC UA EURange, BACnet Min/Max_Pres_Value), from YAML or the meter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bms_bridge.exposure.build import exposed_points
from bms_bridge.sites import open_site
from metering.operating_range import operating_range
from point_mapping.errors import SiteInvalid
from point_mapping.model.common import ValueRange
from point_mapping.registers import point_measure

DAY = date(2026, 1, 5)


def ranges(site_dir: Path) -> dict[str, tuple[float, float] | None]:
    return {p.point_id: p.eu_range for p in exposed_points(open_site(site_dir), DAY)}


def test_power_range_follows_the_meter_rating_and_ct_ratio(site_dir: Path) -> None:
    found = ranges(site_dir)
    # iEM3155 rating 63 A × CT ratio 40 × 230 V × 3 phases = 1,738,800 W
    assert found["main.power"] == pytest.approx((0.0, 1738.8))
    # running totals and virtual totals only grow: no operating range to scale a display by
    assert found["main.energy"] is None
    assert found["common.energy"] is None


def test_yaml_range_wins(site_dir: Path, edit: Callable[[str, str, str], Path]) -> None:
    edit(
        "meters.yaml",
        "{id: main.power, meter: M-MAIN, register: active_power}",
        "{id: main.power, meter: M-MAIN, register: active_power, exposure: {range: {low: -50, high: 400}}}",
    )
    assert ranges(site_dir)["main.power"] == (-50.0, 400.0)


def test_an_empty_yaml_range_is_refused_with_its_place(site_dir: Path, edit: Callable[[str, str, str], Path]) -> None:
    edit(
        "meters.yaml",
        "{id: main.power, meter: M-MAIN, register: active_power}",
        "{id: main.power, meter: M-MAIN, register: active_power, exposure: {range: [400, 400]}}",
    )
    with pytest.raises(SiteInvalid, match=r"meters\.yaml:\d+:\d+.*range low \(400\) must be below high \(400\)"):
        open_site(site_dir)


def test_profile_register_range_is_scaled_by_the_ct_ratio(site_dir: Path) -> None:
    site = open_site(site_dir)
    model = site.model
    profile = site.profiles["schneider-iem3155"]
    current = profile.registers["current_l1"].model_copy(update={"range": ValueRange(low=0, high=63)})
    profile = profile.model_copy(update={"registers": {**profile.registers, "current_l1": current}})
    point = model.point_by_id["main.power"].model_copy(update={"register_name": "current_l1", "unit": None})
    meter = model.meter_by_id["M-MAIN"]
    measure = point_measure(model, point, site.profiles)
    assert measure is not None and measure.unit == "A"
    assert operating_range(point, meter, profile, measure) == (0.0, 63.0 * 40)


def test_demo_points_scale_from_their_meters() -> None:
    found = ranges(Path(__file__).resolve().parents[2] / "sites" / "demo")
    assert found["el.ahu-a.power"] == pytest.approx((0.0, 43.47))  # iEM3155: 63 A × 230 V × 3
    assert found["el.chiller.power"] == (0.0, 180.0)  # EM24 has no rating: the YAML gives the nameplate
