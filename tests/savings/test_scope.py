"""What a measure's scope stands for on the demo: a building's main meters, a tenant's own meters."""

from __future__ import annotations

from datetime import date

import pytest

from bms_bridge.commands.demo import DEMO_SECRETS, DEMO_SITE
from bms_bridge.savings.inputs import cumulative_points
from bms_bridge.sites import open_site
from metering.savings.scope import building_points, measure_points, tenant_points
from point_mapping.loader import LoadedSite
from point_mapping.model import Measure


@pytest.fixture(scope="module")
def demo() -> LoadedSite:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DEMO_SECRETS.items():
            patch.setenv(name, value)
        return open_site(DEMO_SITE)


def test_building_is_its_main_meters(demo: LoadedSite) -> None:
    found = building_points(demo.model, "B", cumulative_points(demo))
    assert {r.value: ids for r, ids in found.items()} == {
        "electricity": ["el.B-main"],
        "cold_water": ["cw.B-main"],
        "hot_water": ["hw.B-main"],
        "heat": ["heat.B-main"],
    }


def test_tenant_is_the_points_it_pays_in_full(demo: LoadedSite) -> None:
    # Nordlicht IT pays its offices and server room at 100 %, building A's common water and heat at 14.2 %
    found = tenant_points(demo.model, "nordlicht-it", date(2026, 8, 1), cumulative_points(demo))
    assert {r.value: ids for r, ids in found.items()} == {"electricity": ["el.A3-01", "el.A3-02", "el.A3-03"]}


def test_measure_on_two_tenants_for_one_resource(demo: LoadedSite) -> None:
    measure = Measure(
        id="m", date=date(2026, 8, 1), scope="tenants", tenants=["fitline", "nordlicht-it"],
        resource="electricity", description="switch-off campaign",
    )  # fmt: skip
    found = measure_points(demo.model, measure, cumulative_points(demo))
    assert {r.value: ids for r, ids in found.items()} == {
        "electricity": ["el.B0-fit", "el.A3-01", "el.A3-02", "el.A3-03"]
    }
