"""The schedules' hooks over the site's database: close a month, hand its statements to the outbox.

`StoreBillingHooks` is what `bms-bridge run` and `demo` give the service (`ServiceOptions.billing`).
Each action opens the site's database on its own (the close is rare, seconds long, and must not share
a transaction with the reading writer); times come from the service's clock, so a test moving a fake
clock to the 1st of the month sees the close it expects.

- close: readings not yet turned into intervals are computed first, then `billing_export.closing.close`
  (idempotent; late data of closed months becomes correction lines) with the site's dynamic prices
  (CSV, and day-ahead prices fetched and kept under SITE/.state, `bms_bridge.billing.day_ahead`).
- export_candidates: the newest version of each contract's statement of the period, in its state.
- approve (auto_approve only): draft -> reviewed -> approved, each step in the audit log by the approver.
- exported: approved -> exported once the billing system has booked it; called again, nothing changes.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from billing_export.closing import CloseSummary, close
from billing_export.outbox.selection import ExportCandidate
from billing_export.period import Period
from billing_export.source import StoreIntervalSource
from billing_export.statement import StatementState
from billing_export.store import StatementStore, StorePeriodLedger
from billing_export.store.statements import StoredStatement
from bms_bridge.billing.day_ahead import dynamic_prices
from metering.clock import Clock
from metering.consumption import refresh_dirty
from metering.progress import Progress
from metering.store import ConsumptionStore, Store
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

SCHEDULER = "schedule (billing_export.schedules)"
S = StatementState


class StoreBillingHooks:
    """A `PeriodCloser` and a `StatementFeed` over the statements kept in the site's database."""

    def __init__(self, site: LoadedSite, db_url: str, clock: Clock, *, by: str = SCHEDULER) -> None:
        self.site = site
        self.db_url = db_url
        self.clock = clock
        self.by = by

    @property
    def closer(self) -> StoreBillingHooks:
        return self

    @property
    def statements(self) -> StoreBillingHooks:
        return self

    async def close(self, period: Period) -> None:
        summary = await self.close_summary(period)
        created = sum(1 for c in summary.statements if c.created)
        log.info("%s closed: %d statements created, %d kept", period, created, len(summary.statements) - created)

    async def close_summary(self, period: Period) -> CloseSummary:
        async with Store.open(self.db_url, clock=self.clock) as store:
            return await close_in_store(self.site, store, period, by=self.by, now=self.clock())

    async def export_candidates(self, period: Period) -> list[ExportCandidate]:
        async with Store.open(self.db_url, clock=self.clock) as store:
            newest = latest_versions(await StatementStore(store).find(self.site.model.site.id, period=str(period)))
        return [ExportCandidate.of(s.statement, s.version, s.state) for s in newest]

    async def approve(self, candidate: ExportCandidate, by: str) -> None:
        async with Store.open(self.db_url, clock=self.clock) as store:
            statements = StatementStore(store)
            stored = await _get(statements, candidate.statement_id, candidate.version)
            if stored.state == S.DRAFT:
                stored = await statements.transition(stored, S.REVIEWED, by=by)
            if stored.state == S.REVIEWED:
                await statements.transition(stored, S.APPROVED, by=by)

    async def exported(self, statement_id: str, version: int, receipt: dict[str, Any]) -> None:
        async with Store.open(self.db_url, clock=self.clock) as store:
            statements = StatementStore(store)
            stored = await _get(statements, statement_id, version)
            if stored.state == S.APPROVED:
                await statements.transition(stored, S.EXPORTED, by=self.by)
            else:  # told again after a crash, or superseded meanwhile: the outbox row is the record
                log.info("statement %s is %s; not marked exported again", stored.id, stored.state.value)


async def close_in_store(
    site: LoadedSite, store: Store, period: Period, *, by: str, now: datetime, progress: Progress | None = None
) -> CloseSummary:
    """The one close of `bms-bridge close`, the schedule and the web app: pending intervals first,
    then `billing_export.closing.close` with the site's dynamic prices."""
    # day-ahead prices are fetched (and kept) only for a month that is over; `close` refuses the others
    dynamic = await dynamic_prices(site, period, now) if period.end <= now else {}
    repo = ConsumptionStore(store)
    await refresh_dirty(site, repo)
    ledger = StorePeriodLedger(repo, site.model.site.zone)
    return await close(
        site.model,
        period,
        StoreIntervalSource(store),
        ledger,
        StatementStore(store),
        by=by,
        now=now,
        dynamic=dynamic,
        progress=progress,
    )


def latest_versions(stored: list[StoredStatement]) -> list[StoredStatement]:
    """The newest version per contract, in contract order (`find` returns them by period, contract, version)."""
    newest: dict[str, StoredStatement] = {}
    for s in stored:
        newest[s.statement.contract] = s
    return list(newest.values())


async def _get(statements: StatementStore, statement_id: str, version: int) -> StoredStatement:
    sid = f"{statement_id}:v{version}"
    stored = await statements.get(sid)
    if stored is None:
        raise LookupError(f"statement {sid} is not in the database")
    return stored
