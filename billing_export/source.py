"""What billing reads from the meter-data core, and what it asks of the period ledger.

`IntervalSource` is the narrow read interface; `StoreIntervalSource` implements it over today's
`metering.store.Store`. `PeriodLedger` is "freeze this period" and "what changed since" - the meter-data
core owns frozen periods and corrections; `BillingPeriods` below is a stand-in kept in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from metering.exchanges import MeterExchange
from metering.readings import Interval, Reading
from metering.store.store import Store


class IntervalSource(Protocol):
    async def intervals(self, point_id: str, start: datetime, end: datetime) -> Sequence[Interval]:
        """Validated 15-minute intervals of `point_id` starting in [start, end), oldest first."""
        ...

    async def register_at(self, point_id: str, ts: datetime) -> Reading | None:
        """The register reading at or before `ts` (the opening or closing reading of a span)."""
        ...

    async def replacements(self, meter_id: str) -> Sequence[MeterExchange]: ...


@dataclass(frozen=True)
class StoreIntervalSource:
    store: Store

    async def intervals(self, point_id: str, start: datetime, end: datetime) -> Sequence[Interval]:
        return await self.store.intervals(point_id, start, end)

    async def register_at(self, point_id: str, ts: datetime) -> Reading | None:
        return await self.store.reading_before(point_id, ts, inclusive=True)

    async def replacements(self, meter_id: str) -> Sequence[MeterExchange]:
        return await self.store.exchanges(meter_id)


@dataclass(frozen=True)
class Correction:
    """An interval changed after its period was frozen."""

    point_id: str
    start: datetime
    old_value: float
    new_value: float
    period: str  # YYYY-MM of the frozen period it belongs to


class PeriodLedger(Protocol):
    async def freeze(self, period: str, by: str) -> None:
        """Freeze `period` (YYYY-MM): later changes to its intervals become corrections."""
        ...

    async def is_frozen(self, period: str) -> bool: ...

    async def corrections_since(self, period: str) -> Sequence[Correction]:
        """Corrections to intervals of periods up to `period`, recorded after they were frozen."""
        ...


@dataclass
class BillingPeriods:
    """In-memory ledger, for tests and until the meter-data core's frozen periods are wired in."""

    frozen: dict[str, str] = field(default_factory=dict)
    recorded: list[Correction] = field(default_factory=list)

    async def freeze(self, period: str, by: str) -> None:
        self.frozen.setdefault(period, by)

    async def is_frozen(self, period: str) -> bool:
        return period in self.frozen

    async def corrections_since(self, period: str) -> Sequence[Correction]:
        return [c for c in self.recorded if c.period <= period]
