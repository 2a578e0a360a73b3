"""What billing reads from the meter-data core, and what it asks of the period ledger.

`IntervalSource` is the narrow read interface; `StoreIntervalSource` implements it over today's
`metering.store.Store`. `PeriodLedger` is "freeze this period" and "what changed since": the meter-data
core owns frozen periods and corrections, `billing_export.store.StorePeriodLedger` reads them there.
`CorrectedSource` reads a frozen period as if its late data had come in time (for correction lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from metering.exchanges import MeterExchange
from metering.readings import Interval, Quality, Reading
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
    """An interval changed after its period was frozen; None where one side has no interval."""

    point_id: str
    start: datetime
    old_value: float | None  # as frozen (and billed)
    new_value: float | None  # as recomputed later
    period: str  # YYYY-MM of the frozen period it belongs to
    new_quality: Quality | None = None


class PeriodLedger(Protocol):
    async def freeze(self, period: str, by: str) -> None:
        """Freeze `period` (YYYY-MM): later changes to its intervals become corrections."""
        ...

    async def is_frozen(self, period: str) -> bool: ...

    async def corrections_since(self, period: str) -> Sequence[Correction]:
        """Corrections to intervals of periods up to `period`, recorded after they were frozen."""
        ...


@dataclass(frozen=True)
class CorrectedSource:
    """`source` as it would read had the late data arrived in time: frozen intervals with the
    corrections laid over them (a correction without a new value removes the interval)."""

    source: IntervalSource
    corrections: Sequence[Correction]

    async def intervals(self, point_id: str, start: datetime, end: datetime) -> Sequence[Interval]:
        slots = {i.start: i for i in await self.source.intervals(point_id, start, end)}
        for c in self.corrections:
            if c.point_id != point_id or not start <= c.start < end:
                continue
            if c.new_value is None:
                slots.pop(c.start, None)
            else:
                slots[c.start] = Interval(point_id, c.start, c.new_value, c.new_quality or Quality.MEASURED)
        return [slots[k] for k in sorted(slots)]

    async def register_at(self, point_id: str, ts: datetime) -> Reading | None:
        return await self.source.register_at(point_id, ts)

    async def replacements(self, meter_id: str) -> Sequence[MeterExchange]:
        return await self.source.replacements(meter_id)
