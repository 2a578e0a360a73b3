"""A tenant whose contract changed in the month: C1 (58 % of common.energy) ends on 4 June, C1b (50 %)
starts on 5 June. Each day counts with the share of the contract in force that day.

June to date (1 June 00:00 to 8 June 12:00 local): a1-01.energy 720 x 1.0 = 720; common.energy
1-4 June 384 x 3.0 x 58 % = 668.16 and 5-8 June (to 12:00) 336 x 3.0 x 50 % = 504; together 1892.16 kWh.
Today (8 June to 12:00): 48 kWh of a1-01 and 48 x 3.0 x 50 % = 72 kWh of common.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import WebWorld, make_world

NEW_CONTRACT = """
contracts:
  - id: C1b
    tenant: T1
    start: 2025-06-05
    spaces: [A1-01]
    points:
      - {point: a1-01.energy}
      - {point: common.energy, share: 50}
    tariffs: {electricity: elec}
"""


@pytest.fixture
async def world(site_dir: Path, edit: Callable[[str, str, str], Path]) -> AsyncIterator[WebWorld]:
    edit(
        "tenants.yaml",
        "  - id: C1\n    tenant: T1\n    start: 2025-01-01\n",
        "  - id: C1\n    tenant: T1\n    start: 2025-01-01\n    end: 2025-06-04\n",
    )
    (site_dir / "renewal.yaml").write_text(NEW_CONTRACT)
    async with make_world(site_dir, edit) as made:
        yield made


async def test_each_day_counts_with_the_share_in_force(as_user: Callable[[str], Any]) -> None:
    async with as_user("alpha") as client:
        compared = await (await client.get("/api/v1/compare?tenant=T1")).json()
        overview = await (await client.get("/api/v1/overview")).json()
        breakdown = await (await client.get("/api/v1/tenants/T1/breakdown?from=2025-06-01&to=2025-06-07")).json()
    assert compared["comparisons"][0]["periods"][0]["value"] == pytest.approx(1892.16)
    lines = {line["point"]["id"]: (line["share_percent"], line["today"]) for line in overview["consumption_today"]}
    assert lines == {"a1-01.energy": (100.0, pytest.approx(48.0)), "common.energy": (50.0, pytest.approx(72.0))}
    # one line per contract and point: 1-4 June under C1, 5-7 June under C1b
    got = {(line["contract"], line["point"]["id"]): line["value"] for line in breakdown["lines"]}
    assert got == {
        ("C1", "a1-01.energy"): pytest.approx(384.0),
        ("C1", "common.energy"): pytest.approx(384 * 3.0 * 0.58),
        ("C1b", "a1-01.energy"): pytest.approx(288.0),
        ("C1b", "common.energy"): pytest.approx(288 * 3.0 * 0.5),
    }
