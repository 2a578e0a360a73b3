"""Progress of a close: one step per contract in force, counted by hand from the golden case
`billing_move_out` (office 2 changes tenant on 2025-06-15: Alpha's C1 and Beta's C2 are both in force
in June, so June's close reports 2 steps; closed again, the 2 steps at once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from billing_export.closing import close
from billing_export.period import Period
from billing_export.source import StoreIntervalSource
from billing_export.store import StatementStore, StorePeriodLedger
from bms_bridge.sites import open_site
from metering.store import ConsumptionStore, Store
from tests.billing.golden import build_site, load_into

CASE = Path(__file__).parent.parent / "fixtures" / "billing_move_out"
NOW = datetime(2025, 7, 5, tzinfo=UTC)


async def test_close_of_two_contracts_reports_two_steps(store: Store, tmp_path: Path) -> None:
    site = open_site(build_site(CASE, tmp_path)).model
    await load_into(store, json.loads((CASE / "input.json").read_text()), site.site.zone)
    repo = ConsumptionStore(store)
    ledger, source, statements = (
        StorePeriodLedger(repo, site.site.zone),
        StoreIntervalSource(store),
        StatementStore(store),
    )
    june = Period.parse("2025-06", site.site.zone)
    in_force = [c.id for c in site.contracts]
    assert in_force == ["C1", "C2"]

    heard: list[tuple[int, int, str]] = []
    summary = await close(
        site, june, source, ledger, statements, by="anna", now=NOW, progress=lambda *s: heard.append(s)
    )
    assert [c.created for c in summary.statements] == [True, True]
    assert heard == [(0, 2, "closing 2025-06"), (1, 2, "closing 2025-06"), (2, 2, "closing 2025-06")]

    heard.clear()
    again = await close(site, june, source, ledger, statements, by="anna", now=NOW, progress=lambda *s: heard.append(s))
    assert [c.created for c in again.statements] == [False, False]
    assert heard == [(0, 2, "closing 2025-06"), (2, 2, "closing 2025-06")]
