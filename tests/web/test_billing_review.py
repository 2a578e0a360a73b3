"""Billing review in the web app: an accountant lists, opens, adjusts with a reason, reviews and
approves statements, each step in the audit log with the user's name; a tenant sees its own issued
statements only and can change nothing.

Stored (tests/web/conftest.py): C1 (T1) 2025-05 approved, 100 kWh, net 18.00; C1 2025-04 draft, 90 kWh,
net 16.20; C2 (T2) 2025-05 approved, 200 kWh, net 36.00.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from bms_bridge.web.roles import Role
from tests.store.conftest import Backend
from tests.web.conftest import PASSWORD, WebWorld, log_in, login_token, serve, text_of


@pytest.fixture
def web_backend(backend: Backend) -> Backend:
    """Every test here runs on SQLite and on PostgreSQL."""
    return backend


async def _accountant(world: WebWorld) -> None:
    await world.users.add("carla", PASSWORD, Role.ACCOUNTANT, None)


async def test_an_accountant_adjusts_reviews_and_approves_a_draft(world: WebWorld) -> None:
    await _accountant(world)
    draft = world.statements["alpha_draft"]
    async with serve(world) as client:
        assert (await log_in(client, "carla")).status == 302
        listed = await (await client.get("/api/v1/statements?state=draft")).json()
        assert [s["id"] for s in listed["statements"]] == [draft]
        page = await client.get(f"/billing/{quote(draft)}")
        html = await page.text()
        assert page.status == 200 and "90.000 kWh" in html and "16.20" in html
        token = login_token(html)

        # no reason: refused, nothing changed
        refused = await client.post(
            f"/billing/{quote(draft)}/adjust", data={"csrf_token": token, "line": "1", "amount": "15"}
        )
        assert refused.status == 400
        # approve before review: refused by the workflow with the next step named
        early = await client.post(f"/api/v1/statements/{draft}/approve", headers={"X-CSRF-Token": token})
        assert early.status == 400 and "review" in (await early.json())["error"]

        form = {"csrf_token": token, "line": "1", "amount": "15.00", "reason": "meter read again on site"}
        assert (await client.post(f"/billing/{quote(draft)}/adjust", data=form)).status == 200  # redirected back
        for step in ("review", "approve"):
            moved = await client.post(f"/api/v1/statements/{draft}/{step}", headers={"X-CSRF-Token": token})
            assert moved.status == 200, await moved.text()
        detail = await (await client.get(f"/api/v1/statements/{draft}")).json()
    assert detail["state"] == "approved"
    assert detail["net"] == "15.00" and detail["vat"] == "2.85"  # 19 % of 15.00, rounded once
    assert (
        detail["adjustments"][0]["by"] == "carla" and detail["adjustments"][0]["reason"] == "meter read again on site"
    )
    actions = [(e["actor"], e["action"]) for e in detail["audit"]]
    assert actions == [("close", "created"), ("carla", "adjusted"), ("carla", "reviewed"), ("carla", "approved")]


async def test_a_tenant_sees_its_issued_statements_only(as_user: Callable[[str], Any], world: WebWorld) -> None:
    async with as_user("alpha") as client:
        listed = await (await client.get("/api/v1/statements")).json()
        page = await text_of(await client.get("/billing"))
        own = await client.get(f"/api/v1/statements/{world.statements['alpha']}")
        own_body = await own.json()
        draft = await client.get(f"/api/v1/statements/{world.statements['alpha_draft']}")
        theirs = await client.get(f"/billing/{quote(world.statements['beta'])}")
        token = login_token(await (await client.get("/")).text())
        approve = await client.post(
            f"/api/v1/statements/{world.statements['alpha']}/approve", headers={"X-CSRF-Token": token}
        )
    assert [s["id"] for s in listed["statements"]] == [world.statements["alpha"]]
    assert world.statements["alpha"] in page and "C2" not in page and "36.00" not in page
    assert own.status == 200 and own_body["audit"] == []  # who reviewed is internal
    assert draft.status == 404  # a draft under review is not the tenant's business yet
    assert theirs.status == 404
    assert approve.status == 403


async def test_bad_filters_are_400_with_the_fix(world: WebWorld) -> None:
    await _accountant(world)
    async with serve(world) as client:
        assert (await log_in(client, "carla")).status == 302
        state = await client.get("/api/v1/statements?state=paid")
        period = await client.get("/api/v1/statements?period=May")
        assert state.status == period.status == 400
        assert "one of draft" in (await state.json())["error"]
        assert "YYYY-MM" in (await period.json())["error"]
