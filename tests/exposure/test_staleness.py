"""Staleness follows each source's own rhythm: a multiple of its poll or report interval, not one global age."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bms_bridge.exposure.build import devices_of_points, exposed_points, stale_thresholds
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.points import PointStatus
from bms_bridge.sites import open_site
from metering.readings import Reading
from tests.support.live import site_live_totals

DEMO = Path(__file__).resolve().parents[2] / "sites" / "demo"
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_demo_thresholds_are_three_intervals_of_each_device() -> None:
    limits = stale_thresholds(open_site(DEMO))
    assert limits["cw.B-1-wc"] == timedelta(hours=3)  # LPWAN, one uplink an hour
    assert limits["hw.B0-fit"] == timedelta(minutes=45)  # LPWAN, every 15 minutes
    assert limits["el.A-main"] == timedelta(seconds=90)  # Modbus TCP polled every 30 s
    assert limits["el.A1-01"] == timedelta(minutes=3)  # default poll interval 60 s
    assert limits["gas.A0-rest"] is None  # read by a person: no rhythm to miss
    assert limits["hw.B-common"] == timedelta(minutes=45)  # virtual: as patient as its slowest input


async def test_an_hourly_lpwan_meter_is_not_stale_45_minutes_after_its_report() -> None:
    site = open_site(DEMO)
    now = [T0]
    feed = ExposureFeed(
        exposed_points(site, T0.date()),
        devices_of_points(site),
        None,
        lambda: now[0],
        virtual=await site_live_totals(site),
        stale_after_of=stale_thresholds(site),
    )
    await feed.on_readings([Reading("cw.B-1-wc", T0, 812.25), Reading("el.A-main", T0, 51234.5)])
    now[0] = T0 + timedelta(minutes=45)
    await feed.refresh()
    lpwan, modbus = feed.value_of("cw.B-1-wc"), feed.value_of("el.A-main")
    assert lpwan is not None and (lpwan.status, lpwan.value) == (PointStatus.OK, 812.25)
    assert modbus is not None and modbus.status is PointStatus.STALE  # 45 min is 90 missed 30 s polls
    now[0] = T0 + timedelta(hours=3, seconds=1)  # three reports missed
    await feed.refresh()
    lpwan = feed.value_of("cw.B-1-wc")
    assert lpwan is not None and lpwan.status is PointStatus.STALE


def test_yaml_overrides_per_point_per_device_and_site(site_dir: Path, edit: Callable[[str, str, str], Path]) -> None:
    edit("devices.yaml", "    profile: eastron-sdm630\n", "    profile: eastron-sdm630\n    stale_after: 10m\n")
    edit(
        "meters.yaml",
        "{id: main.power, meter: M-MAIN, register: active_power}",
        "{id: main.power, meter: M-MAIN, register: active_power, exposure: {stale_after: 30s}}",
    )
    limits = stale_thresholds(open_site(site_dir))
    assert limits["main.power"] == timedelta(seconds=30)  # the point's own
    assert limits["a1-01.energy"] == timedelta(minutes=10)  # its device's
    assert limits["main.energy"] == timedelta(minutes=3)  # 3 × the default 60 s poll
    assert limits["common.energy"] == timedelta(minutes=10)  # the slowest of its inputs
    edit("site.yaml", "site:\n", "exposure:\n  stale_factor: 5\nsite:\n")
    assert stale_thresholds(open_site(site_dir))["main.energy"] == timedelta(minutes=5)
