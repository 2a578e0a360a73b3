"""A tenant against similar tenants per m² of leased area.

June 2025 to date (720 quarter hours). Office tenants: T1 250 m², a1-01 (1.0 a slot) + 58 % of common
(3.0): 1972.8 kWh = 7.8912 kWh/m²; T2 180 m² from 1 June, a1-02 (2.0) + 42 % of common: 2347.2 kWh =
13.04 kWh/m². The extra building below adds offices T3, T4, T5 (100 m² each, 10, 20 and 30 % of
main.energy at 6.0 a slot: 4.32, 8.64 and 12.96 kWh/m²) and a shop T6 (retail, not similar).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.web.roles import Role
from tests.web.conftest import PASSWORD, WebWorld, make_world, text_of

MORE_TENANTS = """
buildings:
  - id: B
    name: Building B
    floors:
      - id: B1
        name: First floor
        spaces:
          - {id: B1-01, name: Office B1, area_m2: 100}
          - {id: B1-02, name: Office B2, area_m2: 100}
          - {id: B1-03, name: Office B3, area_m2: 100}
          - {id: B1-shop, name: Shop, area_m2: 50, use: retail}
tenants:
  - {id: T3, name: Gamma KG, billing_account: ACC-3}
  - {id: T4, name: Delta SE, billing_account: ACC-4}
  - {id: T5, name: Epsilon eG, billing_account: ACC-5}
  - {id: T6, name: Zeta Shop, billing_account: ACC-6}
contracts:
  - {id: C3, tenant: T3, start: 2025-01-01, spaces: [B1-01], points: [{point: main.energy, share: 10}]}
  - {id: C4, tenant: T4, start: 2025-01-01, spaces: [B1-02], points: [{point: main.energy, share: 20}]}
  - {id: C5, tenant: T5, start: 2025-01-01, spaces: [B1-03], points: [{point: main.energy, share: 30}]}
  - {id: C6, tenant: T6, start: 2025-01-01, spaces: [B1-shop], points: [{point: main.energy, share: 5}]}
"""


@pytest.fixture
async def world(site_dir: Path, edit: Callable[[str, str, str], Path]) -> AsyncIterator[WebWorld]:
    """conftest's world, with the extra building and tenants, and a user for the shop."""
    (site_dir / "more.yaml").write_text(MORE_TENANTS)
    async with make_world(site_dir, edit) as made:
        await made.users.add("zeta", PASSWORD, Role.TENANT, "T6")
        yield made


def _figures(body: dict[str, Any]) -> list[tuple[str | None, float | None, bool]]:
    return [(f["tenant"], round(f["per_m2"], 4), f["own"]) for f in body["figures"]]


async def test_a_tenant_sees_anonymous_similar_tenants(as_user: Callable[[str], Any]) -> None:
    async with as_user("alpha") as client:
        body = await (await client.get("/api/v1/tenants/T1/peers")).json()
        csv = await (await client.get("/api/v1/tenants/T1/peers?format=csv")).text()
        page = await text_of(await client.get("/tenants/T1/peers"))
    assert body["use"] == "office" and body["unit"] == "kWh/m²" and not body["withheld"]
    assert _figures(body) == [
        (None, 4.32, False),
        ("T1", 7.8912, True),
        (None, 8.64, False),
        (None, 12.96, False),
        (None, 13.04, False),
    ]
    assert all(f["name"] is None for f in body["figures"] if not f["own"])
    assert csv.splitlines()[2] == "2,T1,office,7.8912,kWh/m²,yes"
    for text in (csv, page):
        assert not any(name in text for name in ("T2", "T3", "T4", "T5", "Beta", "Gamma", "Delta", "Epsilon"))


async def test_an_operator_sees_the_names(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        body = await (await client.get("/api/v1/tenants/T1/peers")).json()
        shop = await (await client.get("/api/v1/tenants/T6/peers")).json()
    assert [f["tenant"] for f in body["figures"]] == ["T3", "T1", "T4", "T5", "T2"]
    assert body["figures"][0]["name"] == "Gamma KG"
    assert shop["use"] == "retail" and _figures(shop) == [("T6", 4.32, True)]  # 5 % of 4320 kWh / 50 m², alone


async def test_too_few_similar_tenants_are_withheld_from_a_tenant(as_user: Callable[[str], Any]) -> None:
    async with as_user("zeta") as client:
        body = await (await client.get("/api/v1/tenants/T6/peers")).json()
    assert body["withheld"] and _figures(body) == [("T6", 4.32, True)]


async def test_another_tenants_peers_are_not_found(as_user: Callable[[str], Any]) -> None:
    async with as_user("alpha") as client:
        response = await client.get("/api/v1/tenants/T2/peers")
        page = await client.get("/tenants/T2/peers")
    assert response.status == page.status == 404
