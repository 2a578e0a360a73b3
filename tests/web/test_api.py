"""The REST API's numbers, units, downloads and errors, as an operator sees them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from bms_bridge.web.app import create_app
from bms_bridge.web.openapi import spec
from tests.store.conftest import Backend
from tests.web.conftest import WebWorld

RANGE = "from=2025-05-26&to=2025-06-08"


@pytest.fixture
def web_backend(backend: Backend) -> Backend:
    """Every test here runs on SQLite and on PostgreSQL."""
    return backend


async def test_series_of_a_cumulative_point_is_its_15_minute_consumption(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        data = await (await client.get("/api/v1/points/a1-01.energy/series?" + RANGE)).json()
    assert data["kind"] == "consumption"
    assert data["unit"] == "kWh per 15 min"
    assert data["stored"] == 14 * 96 and not data["downsampled"]
    assert data["times"][:2] == ["2025-05-26T00:00:00+02:00", "2025-05-26T00:15:00+02:00"]
    assert set(data["values"]) == {1.0}


async def test_series_of_an_instantaneous_point_is_its_readings(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        data = await (await client.get("/api/v1/points/main.power/series?" + RANGE + "&max_points=100")).json()
    assert data["kind"] == "reading" and data["unit"] == "kW"
    assert data["stored"] == 13 * 96 + 44  # 2025-06-08: 00:00 to 10:45 local
    assert data["downsampled"] and len(data["values"]) <= 100
    assert data["times"][0] == "2025-05-26T00:00:00+02:00"
    assert data["times"][-1] == "2025-06-08T10:45:00+02:00"  # the last reading is kept


async def test_profile_averages_per_quarter_hour(as_user: Callable[[str], Any]) -> None:
    """2025-05-26 to 2025-06-08: 14 days, of which 4 weekend days and 2 holidays (Ascension 29 May,
    Whit Monday is 9 June, outside): 9 working days and 5 days off."""
    async with as_user("ops") as client:
        data = await (await client.get("/api/v1/points/common.energy/profile?" + RANGE)).json()
        csv = await (await client.get("/api/v1/points/common.energy/profile?format=csv&" + RANGE)).text()
    assert len(data["slots"]) == 96 and data["slots"][33] == "08:15"
    assert data["working_day"][33] == 3.0 and data["weekend_holiday"][33] == 3.0
    assert (data["working_days"], data["weekend_holiday_days"]) == (9, 5)
    assert csv.splitlines()[:2] == [
        "time_of_day,working_day_average,weekend_holiday_average,unit",
        "00:00,3.0,3.0,kWh per 15 min",
    ]


async def test_heat_map_sums_each_hour(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        response = await client.get("/api/v1/points/main.energy/heatmap?" + RANGE)
        data = await response.json()
        csv = await client.get("/api/v1/points/main.energy/heatmap?format=csv&" + RANGE)
        text = await csv.text()
    assert data["unit"] == "kWh per hour"
    assert data["days"][0] == "2025-05-26" and len(data["days"]) == 14
    assert data["values"][0] == [24.0] * 24  # 4 quarter hours of 6.0 kWh
    assert csv.headers["Content-Disposition"] == 'attachment; filename="main.energy-heatmap.csv"'
    assert text.splitlines()[1] == "2025-05-26,00:00,24.0,kWh per hour"


async def test_bad_requests_get_a_clear_400(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        answers = {
            path: (response.status, (await response.json())["error"])
            for path in [
                "/api/v1/points/main.power/profile?" + RANGE,
                "/api/v1/points/a1-01.energy/series?from=yesterday",
                "/api/v1/points/a1-01.energy/series?from=2025-06-02&to=2025-06-01",
                "/api/v1/points/a1-01.energy/series?max_points=1",
                "/api/v1/points/a1-01.energy/series?format=xml",
                "/api/v1/points/a1-01.energy/series?from=2020-01-01&to=2025-01-01",
            ]
            for response in [await client.get(path)]
        }
    assert answers == {
        "/api/v1/points/main.power/profile?" + RANGE: (
            400,
            "main.power is instantaneous (kW); this chart needs consumption",
        ),
        "/api/v1/points/a1-01.energy/series?from=yesterday": (
            400,
            "not a date or time: 'yesterday' (use YYYY-MM-DD or ISO 8601)",
        ),
        "/api/v1/points/a1-01.energy/series?from=2025-06-02&to=2025-06-01": (400, "'from' must be before 'to'"),
        "/api/v1/points/a1-01.energy/series?max_points=1": (400, "max_points must be between 4 and 100000"),
        "/api/v1/points/a1-01.energy/series?format=xml": (400, "format must be json or csv"),
        "/api/v1/points/a1-01.energy/series?from=2020-01-01&to=2025-01-01": (
            400,
            "a range of at most 1098 days, please",
        ),
    }


async def test_unknown_point_is_404(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        response = await client.get("/api/v1/points/no.such/series")
        assert response.status == 404
        assert (await response.json()) == {"error": "no point 'no.such'"}


async def test_devices_show_health_and_where_each_point_is_defined(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        data = await (await client.get("/api/v1/devices")).json()
        page = await (await client.get("/devices")).text()
    devices = {d["id"]: d for d in data["devices"]}
    assert devices["em-main"]["online"] is True
    assert devices["em-a1-02"]["online"] is False and devices["em-a1-02"]["error_count"] == 7
    assert devices["em-main"]["yaml"] == "site/devices.yaml:8:5"
    points = {p["id"]: p for p in devices["em-main"]["points"]}
    assert points["main.energy"]["yaml"] == "site/meters.yaml:7:5"
    assert points["main.energy"]["status"] == "ok"  # read 5 minutes ago, stale after 15
    assert points["main.power"]["status"] == "stale"  # read an hour and a quarter ago
    assert devices["(virtual)"]["points"][0]["status"] == "virtual"
    assert "site/meters.yaml:7:5" in page


async def test_metrics_carry_device_health(as_user: Callable[[str], Any], world: WebWorld) -> None:
    from billing_export.outbox.model import OutboxInput
    from billing_export.outbox.store import OutboxStore

    await OutboxStore(world.store).enqueue([OutboxInput("mini:2025-05:C1", 1, b"{}")], world.clock())
    async with as_user("ops") as client:
        text = await (await client.get("/metrics")).text()
    assert 'bms_bridge_export_outbox{state="pending"} 1.0' in text  # waiting for the billing system
    assert 'bms_bridge_device_online{device="em-main"} 1.0' in text
    assert 'bms_bridge_device_errors{device="em-a1-02"} 7.0' in text
    assert 'bms_bridge_point_last_reading_age_seconds{point="main.energy"} 300.0' in text


async def test_openapi_describes_every_api_route(world: WebWorld) -> None:
    document = spec()
    assert document["openapi"].startswith("3.")
    app: web.Application = create_app(world.site, world.store, clock=world.clock, users=world.users)
    routes = {
        r.resource.canonical.replace(":\\d+", "")
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/v1/")
    }
    assert routes == set(document["paths"])


@pytest.mark.parametrize("path", ["/static/plotly.min.js", "/static/app.js", "/api/openapi.json"])
async def test_static_files_and_the_api_document_need_no_login(world: WebWorld, path: str) -> None:
    from tests.web.conftest import serve

    async with serve(world) as client:
        response = await client.get(path)
        assert response.status == 200
        if path.endswith("plotly.min.js"):
            assert "plotly.js" in (await response.text())[:500]


async def test_a_long_run_of_minute_readings_is_aggregated_in_sql(
    as_user: Callable[[str], Any], world: WebWorld
) -> None:
    """41 days of one reading a minute (59,040, above the 50,000 the exact path takes): one spike of
    99.0 kW among values 10.0-15.9 must still show."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from metering.readings import Reading

    start = datetime(2025, 4, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    readings = [
        Reading("main.power", start + timedelta(minutes=i), 99.0 if i == 30_000 else 10.0 + (i % 60) / 10)
        for i in range(41 * 1440)
    ]
    await world.store.insert_readings(readings)
    async with as_user("ops") as client:
        data = await (
            await client.get("/api/v1/points/main.power/series?from=2025-04-01&to=2025-05-11&max_points=500")
        ).json()
    assert data["stored"] == 59_040 and data["aggregated"] and data["downsampled"]
    assert 400 <= len(data["values"]) <= 500
    assert max(data["values"]) == 99.0 and min(data["values"]) == 10.0
    assert set(data["qualities"]) == {"aggregated"}
    assert data["times"] == sorted(data["times"])
    assert data["times"][0].startswith("2025-04-01T0")


async def test_profile_page_of_an_instantaneous_point_explains_itself(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        response = await client.get("/points/main.power/heatmap")
        text = await response.text()
    assert response.status == 400
    assert "main.power is instantaneous (kW); a heat map needs consumption" in text
