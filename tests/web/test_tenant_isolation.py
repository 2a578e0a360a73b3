"""A tenant sees its own contracts' points, within its lease, and nothing else: every endpoint and page
asked with the other tenant's ids answers 404 (or 403 for whole-site pages) and never any of its data.

alpha is tenant T1 (a1-01.energy, 58 % of common.energy); beta is T2 (a1-02.energy, 42 % of
common.energy), its lease from 2025-06-01 00:00 local.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.store.conftest import Backend
from tests.web.conftest import WebWorld, text_of

RANGE = "from=2025-05-26&to=2025-06-08"
# T2's ids as seen by T1: each must be answered as if it did not exist
OTHER_TENANTS = [
    "/api/v1/points/a1-02.energy/series?" + RANGE,
    "/api/v1/points/a1-02.energy/series?format=csv&" + RANGE,
    "/api/v1/points/a1-02.energy/profile?" + RANGE,
    "/api/v1/points/a1-02.energy/profile?format=csv&" + RANGE,
    "/api/v1/points/a1-02.energy/heatmap?" + RANGE,
    "/api/v1/points/a1-02.energy/heatmap?format=csv&" + RANGE,
    "/api/v1/points/main.power/series?" + RANGE,  # the building's, nobody's contract
    "/api/v1/tenants/T2",
    "/points/a1-02.energy/load?" + RANGE,
    "/points/a1-02.energy/profile?" + RANGE,
    "/points/a1-02.energy/heatmap?" + RANGE,
    "/points/main.energy/load",
    "/tenants/T2",
]
SITE_WIDE = ["/api/v1/devices", "/devices", "/metrics"]


@pytest.fixture
def web_backend(backend: Backend) -> Backend:
    """Every test here runs on SQLite and on PostgreSQL."""
    return backend


@pytest.mark.parametrize("path", OTHER_TENANTS)
async def test_another_tenants_ids_are_not_found(as_user: Callable[[str], Any], path: str) -> None:
    async with as_user("alpha") as client:
        response = await client.get(path, allow_redirects=False)
        body = await text_of(response)
    assert response.status == 404, body
    assert "Beta" not in body and "2.0" not in body


async def test_the_other_tenants_event_is_not_found(as_user: Callable[[str], Any], world: WebWorld) -> None:
    async with as_user("alpha") as client:
        mine = await client.get(f"/api/v1/events/{world.events['alpha']}")
        theirs = await client.get(f"/api/v1/events/{world.events['beta']}")
        building = await client.get(f"/api/v1/events/{world.events['site']}")
        listed = await (await client.get("/api/v1/events")).json()
        page = await text_of(await client.get("/events"))
    assert mine.status == 200
    assert theirs.status == building.status == 404
    assert [e["title"] for e in listed["events"]] == ["Alpha's night load"]
    assert "Alpha&#39;s night load" in page and "Beta" not in page and "Main meter gap" not in page


@pytest.mark.parametrize("path", SITE_WIDE)
async def test_site_wide_pages_are_forbidden_to_tenants(as_user: Callable[[str], Any], path: str) -> None:
    async with as_user("alpha") as client:
        response = await client.get(path)
        body = await text_of(response)
    assert response.status == 403
    assert "em-a1-02" not in body


async def test_a_tenant_lists_only_its_own_points_and_tenant(as_user: Callable[[str], Any]) -> None:
    async with as_user("alpha") as client:
        points = await (await client.get("/api/v1/points")).json()
        tenants = await (await client.get("/api/v1/tenants")).json()
        mine = await client.get("/tenants/T1")
    assert [p["id"] for p in points["points"]] == ["a1-01.energy", "common.energy"]
    assert tenants == {"tenants": [{"id": "T1", "name": "Alpha GmbH"}]}
    assert mine.status == 200


async def test_a_shared_point_is_seen_only_within_the_lease(as_user: Callable[[str], Any]) -> None:
    """Both see common.energy; beta only from its move-in on 2025-06-01 00:00 local."""
    async with as_user("beta") as client:
        beta = await (await client.get("/api/v1/points/common.energy/series?" + RANGE)).json()
        csv = await (await client.get("/api/v1/points/common.energy/series?format=csv&" + RANGE)).text()
    async with as_user("alpha") as client:
        alpha = await (await client.get("/api/v1/points/common.energy/series?" + RANGE)).json()
    assert alpha["times"][0] == "2025-05-26T00:00:00+02:00"
    assert alpha["stored"] == 14 * 96  # 2025-05-26 to 2025-06-08 inclusive
    assert beta["times"][0] == "2025-06-01T00:00:00+02:00"
    assert beta["stored"] == 8 * 96  # 2025-06-01 to 2025-06-08
    rows = csv.splitlines()
    assert rows[1] == "2025-06-01T00:00:00+02:00,3.0,kWh per 15 min,measured"
    assert len(rows) == 1 + 8 * 96


async def test_the_overview_shows_a_tenant_its_share(as_user: Callable[[str], Any]) -> None:
    """Sunday 2025-06-08 up to 12:00 local: 48 quarter hours of 1.0 kWh (a1-01) and of 3.0 kWh × 58 %."""
    async with as_user("alpha") as client:
        data = await (await client.get("/api/v1/overview")).json()
        page = await text_of(await client.get("/"))
    lines = {line["point"]["id"]: line for line in data["consumption_today"]}
    assert lines["a1-01.energy"]["today"] == pytest.approx(48.0)
    assert lines["common.energy"]["today"] == pytest.approx(48 * 3.0 * 0.58)
    assert data["by_resource"] == [{"resource": "electricity", "today": pytest.approx(48 + 83.52), "unit": "kWh"}]
    assert data["devices_online"] is None
    assert [e["title"] for e in data["open_events"]] == ["Alpha's night load"]
    assert "131.5 kWh" in page


async def test_a_tenant_without_a_lease_yet_sees_no_readings(as_user: Callable[[str], Any]) -> None:
    async with as_user("beta") as client:
        before = await (await client.get("/api/v1/points/a1-02.energy/series?from=2025-05-26&to=2025-05-31")).json()
    assert before["stored"] == 0 and before["values"] == []


async def test_a_tenant_reads_an_event_without_other_tenants_names_or_meter_values(
    as_user: Callable[[str], Any], world: WebWorld
) -> None:
    """An HVAC finding that affects both tenants, with a valve position and both tenants' meters as evidence."""
    from datetime import UTC, datetime

    from metering.events import EvidenceSample
    from metering.store import Event

    at = datetime(2025, 6, 4, 6, 0, tzinfo=UTC)
    values = {"ahu.heating-valve": 80.0, "a1-01.energy": 1.5, "a1-02.energy": 2.5}
    shared = Event(
        "hvac.simultaneous_heating_cooling",
        "ahu",
        "warning",
        at,
        "Heating and cooling at once",
        "e-hvac",
        tenants=("T1", "T2"),
        evidence=(EvidenceSample(at, values),),
        details={"zones": ["T2 offices"]},
    )
    event_id = await world.store.add_event(shared)
    async with as_user("alpha") as client:
        body = await (await client.get(f"/api/v1/events/{event_id}")).json()
        csv = await (await client.get(f"/api/v1/events/{event_id}?format=csv")).text()
        page = await text_of(await client.get(f"/events/{event_id}"))
        listed = await (await client.get("/api/v1/events")).text()
    assert body["tenants"] == ["T1"]
    assert body["evidence"] == [
        {"time": "2025-06-04T08:00:00+02:00", "values": {"a1-01.energy": 1.5, "ahu.heating-valve": 80.0}}
    ]
    assert body["details"] == {}
    assert csv.splitlines() == [
        "time,point,value",
        "2025-06-04T08:00:00+02:00,a1-01.energy,1.5",
        "2025-06-04T08:00:00+02:00,ahu.heating-valve,80.0",
    ]
    for text in (page, listed, csv):
        assert "T2" not in text and "a1-02" not in text and "2.5" not in text
    async with as_user("ops") as client:
        full = await (await client.get(f"/api/v1/events/{event_id}")).json()
    assert full["tenants"] == ["T1", "T2"] and full["details"] == {"zones": ["T2 offices"]}
    assert full["evidence"][0]["values"]["a1-02.energy"] == 2.5


# Every API route, asked by tenant T1 for T2's things (or, for lists, for everything): a new route
# fails the next test until it is added here.
EVERY_ROUTE: dict[str, tuple[str, str, set[int]]] = {
    "/api/v1/me": ("GET", "/api/v1/me", {200}),
    "/api/v1/points": ("GET", "/api/v1/points", {200}),
    "/api/v1/points/{point_id}/series": ("GET", "/api/v1/points/a1-02.energy/series?" + RANGE, {404}),
    "/api/v1/points/{point_id}/profile": ("GET", "/api/v1/points/a1-02.energy/profile?" + RANGE, {404}),
    "/api/v1/points/{point_id}/heatmap": ("GET", "/api/v1/points/a1-02.energy/heatmap?" + RANGE, {404}),
    "/api/v1/compare": ("GET", "/api/v1/compare?tenant=T2", {404}),
    "/api/v1/overview": ("GET", "/api/v1/overview", {200}),
    "/api/v1/events": ("GET", "/api/v1/events", {200}),
    "/api/v1/events/{event_id}": ("GET", "/api/v1/events/{beta}", {404}),
    "/api/v1/events/{event_id}/acknowledge": ("POST", "/api/v1/events/{beta}/acknowledge", {403}),
    "/api/v1/devices": ("GET", "/api/v1/devices", {403}),
    "/api/v1/tenants": ("GET", "/api/v1/tenants", {200}),
    "/api/v1/tenants/{tenant_id}": ("GET", "/api/v1/tenants/T2", {404}),
    "/api/v1/tenants/{tenant_id}/breakdown": ("GET", "/api/v1/tenants/T2/breakdown", {404}),
    "/api/v1/tenants/{tenant_id}/peers": ("GET", "/api/v1/tenants/T2/peers", {404}),
    "/api/v1/tenants/{tenant_id}/profile": ("GET", "/api/v1/tenants/T2/profile?" + RANGE, {404}),
    "/api/v1/tenants/{tenant_id}/heatmap": ("GET", "/api/v1/tenants/T2/heatmap?format=csv&" + RANGE, {404}),
    "/api/v1/statements": ("GET", "/api/v1/statements", {200}),
    "/api/v1/statements/{statement_id}": ("GET", "/api/v1/statements/mini:2025-05:C2:v1", {404}),
    "/api/v1/statements/{statement_id}/{step}": ("POST", "/api/v1/statements/mini:2025-05:C2:v1/approve", {403}),
    "/api/v1/statements/{statement_id}/adjust": ("POST", "/api/v1/statements/mini:2025-05:C2:v1/adjust", {403}),
    # jobs (a close or export: billing reviewers; a reading import: operators) never a tenant's; random ids
    "/api/v1/jobs": ("POST", "/api/v1/jobs", {403}),
    "/api/v1/jobs/{job_id}": ("GET", "/api/v1/jobs/{job}", {403}),
    "/api/v1/jobs/{job_id}/file": ("GET", "/api/v1/jobs/{job}/file", {403}),
    "/metrics": ("GET", "/metrics", {403}),
}


async def test_every_api_route_is_closed_to_the_other_tenant(world: WebWorld) -> None:
    from bms_bridge.web.app import create_app

    app = create_app(world.site, world.store, clock=world.clock, users=world.users)
    routes = {
        r.resource.canonical.replace(":\\d+", "")
        for r in app.router.routes()
        if r.resource is not None
        and (r.resource.canonical.startswith("/api/v1/") or r.resource.canonical == "/metrics")
    }
    assert routes == set(EVERY_ROUTE)
    alpha = await world.users.by_name("alpha")
    assert alpha is not None
    headers = {"Authorization": f"Bearer {await world.users.create_token(alpha)}"}
    from tests.web.conftest import serve

    admin = await world.users.by_name("admin")
    assert admin is not None
    as_admin = {"Authorization": f"Bearer {await world.users.create_token(admin)}"}
    async with serve(world) as client:
        # a real job of the admin's, which the tenant must not see either
        started = await client.post("/api/v1/jobs", json={"kind": "close", "period": "2025-05"}, headers=as_admin)
        job = (await started.json())["id"]
        for route, (method, path, statuses) in EVERY_ROUTE.items():
            url = path.format(beta=world.events["beta"], job=job)
            response = await client.request(method, url, headers=headers)
            body = await text_of(response)
            assert response.status in statuses, (route, response.status, body)
            # an error may repeat the id it was asked for, nothing more of the other tenant's
            for marker in ("T2", "Beta", "a1-02", "em-a1-02"):
                if marker not in url:
                    assert marker not in body, (route, marker)


EVERY_PAGE: dict[str, tuple[str, str, set[int]]] = {
    "/": ("GET", "/", {200}),
    "/points": ("GET", "/points", {200}),
    "/points/{point_id}/load": ("GET", "/points/a1-02.energy/load", {404}),
    "/points/{point_id}/profile": ("GET", "/points/a1-02.energy/profile", {404}),
    "/points/{point_id}/heatmap": ("GET", "/points/a1-02.energy/heatmap", {404}),
    "/compare": ("GET", "/compare?tenant=T2", {404}),
    "/devices": ("GET", "/devices", {403}),
    "/events": ("GET", "/events", {200}),
    "/events/{event_id}": ("GET", "/events/{beta}", {404}),
    "/events/{event_id}/acknowledge": ("POST", "/events/{beta}/acknowledge", {403}),
    "/tenants": ("GET", "/tenants", {200}),
    "/tenants/{tenant_id}": ("GET", "/tenants/T2", {404}),
    "/tenants/{tenant_id}/peers": ("GET", "/tenants/T2/peers", {404}),
    "/tenants/{tenant_id}/profile": ("GET", "/tenants/T2/profile", {404}),
    "/tenants/{tenant_id}/heatmap": ("GET", "/tenants/T2/heatmap", {404}),
    "/billing": ("GET", "/billing", {200}),  # its own issued statements
    "/billing/{statement_id}": ("GET", "/billing/mini:2025-05:C2:v1", {404}),
    "/billing/{statement_id}/{step}": ("POST", "/billing/mini:2025-05:C2:v1/approve", {403}),
    "/billing/{statement_id}/adjust": ("POST", "/billing/mini:2025-05:C2:v1/adjust", {403}),
    "/import": ("GET", "/import", {403}),  # reading import: operators, integrators, admins
    "/login": ("GET", "/login", {200}),
    "/logout": ("POST", "/logout", {302}),  # last: it ends the session
}
NOT_PAGES = {"/static/plotly.min.js", "/static", "/api/openapi.json"}


async def test_every_page_is_closed_to_the_other_tenant(as_user: Callable[[str], Any], world: WebWorld) -> None:
    from bms_bridge.web.app import create_app
    from tests.web.conftest import login_token

    app = create_app(world.site, world.store, clock=world.clock, users=world.users)
    routes = {
        r.resource.canonical.replace(":\\d+", "")
        for r in app.router.routes()
        if r.resource is not None and not r.resource.canonical.startswith("/api/v1/")
    }
    assert routes - NOT_PAGES - {"/metrics"} == set(EVERY_PAGE)
    async with as_user("alpha") as client:
        token = login_token(await (await client.get("/")).text())
        for route, (method, path, statuses) in EVERY_PAGE.items():
            url = path.format(beta=world.events["beta"])
            data = {"csrf_token": token} if method == "POST" else None
            response = await client.request(method, url, data=data, allow_redirects=False)
            body = await text_of(response)
            assert response.status in statuses, (route, response.status, body[:300])
            for marker in ("T2", "Beta", "a1-02", "em-a1-02"):
                if marker not in url:
                    assert marker not in body, (route, marker)
