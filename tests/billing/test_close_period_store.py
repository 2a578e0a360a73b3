"""Closing months into the database: idempotent, issued statements never rewritten, late data carried.

The site is the golden case `billing_late_data`: one office (a1-01.energy) at 0.20 EUR/kWh, 19 % VAT,
0.25 kWh per quarter hour = 24 kWh a day. December 2025 is closed with 10 December missing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from billing_export.closing import CloseRefused, close
from billing_export.period import Period
from billing_export.source import StoreIntervalSource
from billing_export.statement import LineKind, StatementState
from billing_export.store import StatementStore, StorePeriodLedger
from bms_bridge.sites import open_site
from metering.readings import Interval
from metering.store import ConsumptionStore, Store
from point_mapping.model import SiteModel
from tests.billing.golden import build_site

CASE = Path(__file__).parent.parent / "fixtures" / "billing_late_data"
SLOT = timedelta(minutes=15)
NOW = datetime(2026, 3, 5, tzinfo=UTC)


def day_of_intervals(site: SiteModel, day: str, per_slot: float) -> tuple[datetime, datetime, list[Interval]]:
    zone = site.site.zone
    start = datetime.fromisoformat(day).replace(tzinfo=zone).astimezone(UTC)
    end = (datetime.fromisoformat(day) + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
    slots = int((end - start) / SLOT)
    return start, end, [Interval("a1-01.energy", start + n * SLOT, per_slot) for n in range(slots)]


async def fill(repo: ConsumptionStore, site: SiteModel, first: str, last: str, skip: set[str]) -> None:
    day = datetime.fromisoformat(first)
    while day <= datetime.fromisoformat(last):
        if day.date().isoformat() not in skip:
            start, end, intervals = day_of_intervals(site, day.date().isoformat(), 0.25)
            await repo.replace_intervals("a1-01.energy", start, end, intervals)
        day += timedelta(days=1)


@pytest.fixture
def site(tmp_path: Path) -> SiteModel:
    return open_site(build_site(CASE, tmp_path)).model


async def test_late_data_is_carried_once_to_the_next_statements(store: Store, site: SiteModel) -> None:
    repo, statements = ConsumptionStore(store), StatementStore(store)
    ledger, source = StorePeriodLedger(repo, site.site.zone), StoreIntervalSource(store)
    await fill(repo, site, "2025-12-01", "2026-02-28", skip={"2025-12-10"})
    december, january, february = (Period.parse(p, site.site.zone) for p in ("2025-12", "2026-01", "2026-02"))

    async def closing(period: Period) -> list[str]:
        summary = await close(site, period, source, ledger, statements, by="anna", now=NOW)
        return [
            f"{c.stored.id} {'created' if c.created else 'kept'} {c.stored.statement.gross}" for c in summary.statements
        ]

    # 30 days x 24 kWh = 720 kWh x 0.20 = 144.00 + 27.36 VAT = 171.36
    assert await closing(december) == ["golden:2025-12:C1:v1 created 171.36"]
    assert await closing(december) == ["golden:2025-12:C1:v1 kept 171.36"]  # idempotent: no new version
    issued = await statements.get("golden:2025-12:C1:v1")

    # 10 December arrives: the pipeline's recomputation records corrections, the frozen month stays
    start, end, late = day_of_intervals(site, "2025-12-10", 0.25)
    assert (await repo.replace_intervals("a1-01.energy", start, end, late)).corrections == 96
    assert await closing(december) == ["golden:2025-12:C1:v1 kept 171.36"]
    assert await statements.get("golden:2025-12:C1:v1") == issued

    # January: 31 x 24 = 744 kWh -> 148.80 + 28.27; plus the correction 24 kWh -> 4.80 + 0.91
    assert await closing(january) == ["golden:2026-01:C1:v1 created 182.78"]
    jan = await statements.latest("golden", "C1", "2026-01")
    assert jan is not None
    [correction] = [line for line in jan.statement.lines if line.kind == LineKind.CORRECTION]
    assert (correction.quantity, correction.net, correction.vat) == (
        Decimal("24.000"),
        Decimal("4.80"),
        Decimal("0.91"),
    )
    assert correction.refers_to == "golden:2025-12:C1:v1"
    assert correction.description == "Correction of 2025-12: Office 1, Flat rate"

    # more late data for December after January was issued: only the new difference goes to February
    start, end, late = day_of_intervals(site, "2025-12-11", 0.5)  # 48 kWh instead of 24
    await repo.replace_intervals("a1-01.energy", start, end, late)
    assert await closing(january) == ["golden:2026-01:C1:v1 kept 182.78"]
    # February: 28 x 24 = 672 kWh -> 134.40 + 25.54; correction +24 kWh -> 4.80 + 0.91
    assert await closing(february) == ["golden:2026-02:C1:v1 created 165.65"]
    feb = await statements.latest("golden", "C1", "2026-02")
    assert feb is not None
    [again] = [line for line in feb.statement.lines if line.kind == LineKind.CORRECTION]
    assert (again.quantity, again.net, again.refers_to) == (Decimal("24.000"), Decimal("4.80"), "golden:2025-12:C1:v1")
    assert again.basis == (
        "late data after close; was 720.000 kWh, now 768.000 kWh; 24.000 kWh, 4.80 already corrected before"
    )
    assert {s.state for s in await statements.find("golden")} == {StatementState.DRAFT}
    assert [e.action for e in await statements.audit()].count("close") == 6


async def test_a_month_that_has_not_ended_cannot_be_closed(store: Store, site: SiteModel) -> None:
    repo = ConsumptionStore(store)
    ledger = StorePeriodLedger(repo, site.site.zone)
    march = Period.parse("2026-03", site.site.zone)
    with pytest.raises(CloseRefused, match="period 2026-03 is not over until 2026-04-01 00:00 Europe/Berlin"):
        await close(site, march, StoreIntervalSource(store), ledger, StatementStore(store), by="anna", now=NOW)
    assert not await ledger.is_frozen("2026-03")


async def test_a_contract_that_ended_gets_a_statement_of_its_corrections(store: Store, tmp_path: Path) -> None:
    # billing_move_out: Alpha (C1) leaves office 2 on 2025-06-15 at 12:00, Beta (C2) moves in; no VAT
    site = open_site(build_site(CASE.parent / "billing_move_out", tmp_path / "move_out")).model
    repo, statements = ConsumptionStore(store), StatementStore(store)
    ledger, source = StorePeriodLedger(repo, site.site.zone), StoreIntervalSource(store)
    zone = site.site.zone
    start = datetime(2025, 6, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(2025, 8, 1, tzinfo=zone).astimezone(UTC)
    count = int((end - start) / SLOT)
    await repo.replace_intervals("a1-02.energy", start, end, [
        Interval("a1-02.energy", start + n * SLOT, 0.25) for n in range(count)
    ])  # fmt: skip
    june, july = Period.parse("2025-06", zone), Period.parse("2025-07", zone)
    await close(site, june, source, ledger, statements, by="anna", now=NOW)

    # 10 June (Alpha's) read again at 0.5 kWh a quarter hour: +24 kWh x 0.20 = +4.80 for Alpha only
    day = datetime(2025, 6, 10, tzinfo=zone).astimezone(UTC)
    await repo.replace_intervals("a1-02.energy", day, day + 96 * SLOT, [
        Interval("a1-02.energy", day + n * SLOT, 0.5) for n in range(96)
    ])  # fmt: skip
    summary = await close(site, july, source, ledger, statements, by="anna", now=NOW)
    by_contract = {c.stored.statement.contract: c.stored.statement for c in summary.statements}
    [alpha] = by_contract["C1"].lines  # Alpha's lease ended in June: only the correction
    assert (alpha.kind, alpha.quantity, alpha.net, alpha.refers_to) == (
        LineKind.CORRECTION,
        Decimal("24.000"),
        Decimal("4.80"),
        "golden:2025-06:C1:v1",
    )
    # Beta's July: 31 days x 24 kWh = 744 kWh x 0.20 = 148.80 + standing charge 30.00, no correction
    assert [line.kind for line in by_contract["C2"].lines] == [LineKind.ENERGY, LineKind.FEE]
    assert by_contract["C2"].net == Decimal("178.80")
