"""Closing a month: freeze its intervals, store one draft statement per contract, carry late data.

- Idempotent: a contract that already has a statement for the period keeps it as it is (closing again
  creates no version); the frozen intervals would give the same numbers anyway.
- Never rewritten: late or corrected data of an earlier closed month (the meter-data core records it
  as corrections, the frozen numbers stay) becomes CORRECTION lines on the statement this close
  creates, referring to the earlier statement. A month is recomputed twice - as frozen and with its
  corrections laid over - and what changed, less what earlier statements already corrected, is billed.
- A contract no longer in force that has corrections outstanding gets a statement of correction lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from billing_export.allocation import Reconciliation
from billing_export.close import close_period
from billing_export.corrections import correction_lines, outstanding
from billing_export.period import Period, occupancy
from billing_export.pricing import DynamicPrices
from billing_export.source import CorrectedSource, Correction, IntervalSource, PeriodLedger
from billing_export.statement import LineKind, Statement, StatementLine, StatementState
from metering.progress import Progress, Steps
from point_mapping.model import SiteModel


class StoredLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def state(self) -> StatementState: ...
    @property
    def statement(self) -> Statement: ...


class StatementRepository(Protocol):
    """What closing needs of statement storage (`billing_export.store.StatementStore`)."""

    async def latest(self, site: str, contract: str, period: str) -> StoredLike | None: ...
    async def versions(self, site: str, contract: str, period: str) -> Sequence[StoredLike]: ...
    async def find(self, site: str, *, contract: str | None = None) -> Sequence[StoredLike]: ...
    async def create(self, statement: Statement, *, by: str, detail: Mapping[str, Any] | None = None) -> StoredLike: ...
    async def record(self, *, by: str, action: str, statement_id: str | None, detail: Mapping[str, Any]) -> None: ...


class CloseRefused(ValueError):
    """The period cannot be closed (yet); the message says why."""


@dataclass(frozen=True)
class Closed:
    stored: StoredLike
    created: bool  # False: the period was closed before and the statement is left as it was
    corrections: int  # correction lines it carries from earlier months


@dataclass(frozen=True)
class CloseSummary:
    period: str
    statements: tuple[Closed, ...]
    reconciliations: tuple[Reconciliation, ...]


async def close(
    site: SiteModel,
    period: Period,
    source: IntervalSource,
    ledger: PeriodLedger,
    repo: StatementRepository,
    *,
    by: str,
    now: datetime,
    dynamic: Mapping[str, DynamicPrices] | None = None,
    progress: Progress | None = None,
) -> CloseSummary:
    """`progress` hears one step per contract in force (`close_period`); closed before: all at once."""
    if period.end > now:
        local_end = period.end.astimezone(period.zone)
        raise CloseRefused(
            f"period {period} is not over until {local_end:%Y-%m-%d %H:%M} {period.zone.key}; close it after that"
        )
    site_id = site.site.id
    await ledger.freeze(str(period), by)
    existing = {c.id: await repo.latest(site_id, c.id, str(period)) for c in site.contracts}
    in_force = {c.id for c in site.contracts if occupancy(c, period) is not None}
    if all(existing[c] is not None for c in in_force):
        # closed before: nothing to compute, every statement stays as it is (and no reconciliation)
        kept = tuple(Closed(s, False, _count_corrections(s.statement)) for s in existing.values() if s is not None)
        Steps(progress, len(in_force), f"closing {period}").finish()
        await repo.record(by=by, action="close", statement_id=None, detail={"period": str(period), "created": []})
        return CloseSummary(str(period), kept, ())
    result = await close_period(site, period, source, dynamic, progress)
    computed = {s.contract: s for s in result.statements}
    carried = await _carried_corrections(site, period, source, ledger, repo, dynamic)
    closed = []
    for contract in site.contracts:
        stored = existing[contract.id]
        lines = carried.get(contract.id, [])
        if stored is not None:
            closed.append(Closed(stored, False, _count_corrections(stored.statement)))
            continue
        statement = computed.get(contract.id) or (_empty(site, contract.id, str(period)) if lines else None)
        if statement is None:
            continue
        statement = replace(statement, lines=(*statement.lines, *lines))
        created = await repo.create(statement, by=by, detail={"closed": str(period)})
        closed.append(Closed(created, True, len(lines)))
    await repo.record(
        by=by,
        action="close",
        statement_id=None,
        detail={"period": str(period), "created": [c.stored.id for c in closed if c.created]},
    )
    return CloseSummary(str(period), tuple(closed), result.reconciliations)


async def _carried_corrections(
    site: SiteModel,
    period: Period,
    source: IntervalSource,
    ledger: PeriodLedger,
    repo: StatementRepository,
    dynamic: Mapping[str, DynamicPrices] | None,
) -> dict[str, list[StatementLine]]:
    """Per contract, the correction lines of earlier months no statement carries yet."""
    by_month: dict[str, list[Correction]] = defaultdict(list)
    for correction in await ledger.corrections_since(str(period.previous())):
        by_month[correction.period].append(correction)
    site_id = site.site.id
    carried: dict[str, list[StatementLine]] = defaultdict(list)
    for month_text in sorted(by_month):
        month = Period.parse(month_text, period.zone)
        as_frozen = {s.contract: s for s in (await close_period(site, month, source, dynamic)).statements}
        later = CorrectedSource(source, by_month[month_text])
        as_now = {s.contract: s for s in (await close_period(site, month, later, dynamic)).statements}
        for contract_id in sorted(as_frozen.keys() | as_now.keys()):
            versions = await repo.versions(site_id, contract_id, month_text)
            if not versions:  # that month was never billed to this contract: nothing to correct
                continue
            original = versions[-1]
            empty = _empty(site, contract_id, month_text)
            delta = correction_lines(as_frozen.get(contract_id, empty), as_now.get(contract_id, empty))
            ids = {v.id for v in versions}
            billed = [
                line
                for s in await repo.find(site_id, contract=contract_id)
                if s.state != StatementState.SUPERSEDED
                for line in s.statement.lines
                if line.kind == LineKind.CORRECTION and line.refers_to in ids
            ]
            carried[contract_id] += [replace(line, refers_to=original.id) for line in outstanding(delta, billed)]
    return carried


def _empty(site: SiteModel, contract_id: str, period: str) -> Statement:
    contract = next(c for c in site.contracts if c.id == contract_id)
    tenant = site.tenant_by_id[contract.tenant]
    return Statement(site.site.id, contract.id, tenant.id, tenant.billing_account, period, site.site.currency)


def _count_corrections(statement: Statement) -> int:
    return sum(1 for line in statement.lines if line.kind == LineKind.CORRECTION)
