"""Acknowledging an event: the first state-changing action of the web app, so CSRF and roles apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.conftest import WebWorld, login_token, serve


async def test_operator_acknowledges_with_a_bearer_token(world: WebWorld) -> None:
    ops = await world.users.by_name("ops")
    assert ops is not None
    token = await world.users.create_token(ops)
    async with serve(world) as client:
        response = await client.post(
            f"/api/v1/events/{world.events['site']}/acknowledge",
            json={"comment": "gap known: meter swapped"},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = await response.json()
    assert response.status == 200, body
    assert body["acknowledged_by"] == "ops"
    assert body["acknowledged_at"] == "2025-06-08T12:00:00+02:00"
    assert body["acknowledgement_comment"] == "gap known: meter swapped"
    assert body["ended_at"] is None  # it stays open until its condition clears
    stored = next(e for e in await world.store.events() if e.id == world.events["site"])
    assert stored.acknowledgement is not None and stored.acknowledgement.by == "ops"
    from billing_export.store import StatementStore

    audit = [e for e in await StatementStore(world.store).audit() if e.action == "event acknowledged"]
    assert [(e.actor, e.detail) for e in audit] == [
        ("ops", {"event": world.events["site"], "comment": "gap known: meter swapped"})
    ]


async def test_a_session_needs_the_csrf_header_to_acknowledge(as_user: Callable[[str], Any], world: WebWorld) -> None:
    path = f"/api/v1/events/{world.events['site']}/acknowledge"
    async with as_user("ops") as client:
        forged = await client.post(path, json={"comment": "from another site"})
        token = login_token(await (await client.get("/")).text())
        done = await client.post(path, json={}, headers={"X-CSRF-Token": token})
    assert forged.status == 403
    assert done.status == 200


async def test_the_events_page_form_acknowledges(as_user: Callable[[str], Any], world: WebWorld) -> None:
    async with as_user("ops") as client:
        page = await (await client.get("/events")).text()
        assert f'action="/events/{world.events["beta"]}/acknowledge"' in page
        token = login_token(page)
        response = await client.post(
            f"/events/{world.events['beta']}/acknowledge",
            data={"csrf_token": token, "comment": "tenant informed"},
            allow_redirects=False,
        )
        assert response.status == 303 and response.headers["Location"] == "/events"
        after = await (await client.get("/events")).text()
    assert "ops, 2025-06-08 12:00: tenant informed" in after


async def test_tenants_and_engineers_may_not_acknowledge(world: WebWorld) -> None:
    from bms_bridge.web.roles import Role

    await world.users.add("eng", "engineer-pass", Role.ENGINEER)
    for name in ("alpha", "eng"):
        user = await world.users.by_name(name)
        assert user is not None
        token = await world.users.create_token(user)
        async with serve(world) as client:
            response = await client.post(
                f"/api/v1/events/{world.events['alpha']}/acknowledge", headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status == 403, name
    assert all(e.acknowledgement is None for e in await world.store.events())


async def test_bad_bodies_and_unknown_events(as_user: Callable[[str], Any], world: WebWorld) -> None:
    ops = await world.users.by_name("ops")
    assert ops is not None
    headers = {"Authorization": f"Bearer {await world.users.create_token(ops)}"}
    async with serve(world) as client:
        not_json = await client.post(f"/api/v1/events/{world.events['site']}/acknowledge", data="x", headers=headers)
        wrong = await client.post(
            f"/api/v1/events/{world.events['site']}/acknowledge", json={"comment": 5}, headers=headers
        )
        missing = await client.post("/api/v1/events/999/acknowledge", headers=headers)
    assert not_json.status == wrong.status == 400
    assert missing.status == 404
