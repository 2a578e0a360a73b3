"""What billing reads from the meter-data core, and what it asks of the period ledger.

`IntervalSource` is the narrow read interface; `StoreIntervalSource` implements it over today's
`metering.store.Store`. `PeriodLedger` is "freeze this period" and "what changed since": the meter-data
core owns frozen periods and corrections, `billing_export.store.StorePeriodLedger` reads them there.
`CorrectedSource` reads a frozen period as if its late data had come in time (for correction lines).
`span_sums`, `registers_at` and `replacements_of` are the bulk reads a close makes: a source that can
answer for many points at once (the store, in SQL) is a `BulkSource`; any other source (a wrapper, a
test's) is asked point by point through `IntervalSource`, with the same results.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from metering.exchanges import MeterExchange
from metering.quanta import SpanSum, to_quanta
from metering.readings import Interval, Quality, Reading
from metering.store.interval_sums import interval_sums
from metering.store.store import Store


class IntervalSource(Protocol):
    async def intervals(self, point_id: str, start: datetime, end: datetime) -> Sequence[Interval]:
        """Validated 15-minute intervals of `point_id` starting in [start, end), oldest first."""
        ...

    async def register_at(self, point_id: str, ts: datetime) -> Reading | None:
        """The register reading at or before `ts` (the opening or closing reading of a span)."""
        ...

    async def replacements(self, meter_id: str) -> Sequence[MeterExchange]: ...


@runtime_checkable
class BulkSource(Protocol):
    """What a source that can answer for many points at once offers (the store does, in SQL);
    `span_sums`, `registers_at` and `replacements_of` fall back to the `IntervalSource` methods."""

    async def interval_sums(
        self, point_ids: Sequence[str], bounds: Sequence[datetime]
    ) -> dict[str, list[SpanSum | None]]: ...

    async def registers_at_many(self, point_ids: Sequence[str], ts: datetime) -> dict[str, Reading]: ...

    async def replacements_of(self, meter_ids: Sequence[str]) -> dict[str, list[MeterExchange]]: ...


async def span_sums(
    source: IntervalSource, point_ids: Sequence[str], bounds: Sequence[datetime]
) -> dict[str, list[SpanSum | None]]:
    """Per point, per span [bounds[k], bounds[k + 1]): Σ of its interval values in quanta of 10^-9
    (`to_quanta`) and Σ of those not measured; None where it has no interval."""
    if isinstance(source, BulkSource):
        return await source.interval_sums(point_ids, bounds)
    result = {}
    for point_id in point_ids:
        sums: list[SpanSum | None] = [None] * (len(bounds) - 1)
        for interval in await source.intervals(point_id, bounds[0], bounds[-1]):
            k = bisect.bisect_right(bounds, interval.start) - 1
            quanta = to_quanta(interval.value)
            measured = interval.quality is Quality.MEASURED
            before = sums[k] or SpanSum(0, 0)
            sums[k] = SpanSum(before.total + quanta, before.not_measured + (0 if measured else quanta))
        result[point_id] = sums
    return result


async def registers_at(source: IntervalSource, point_ids: Sequence[str], ts: datetime) -> dict[str, Reading]:
    """`register_at` of each point (points without a reading left out)."""
    if isinstance(source, BulkSource):
        return await source.registers_at_many(point_ids, ts)
    found = {p: await source.register_at(p, ts) for p in point_ids}
    return {p: reading for p, reading in found.items() if reading is not None}


async def replacements_of(source: IntervalSource, meter_ids: Sequence[str]) -> dict[str, list[MeterExchange]]:
    if isinstance(source, BulkSource):
        return await source.replacements_of(meter_ids)
    return {m: list(await source.replacements(m)) for m in meter_ids}


@dataclass(frozen=True)
class StoreIntervalSource:
    store: Store

    async def interval_sums(
        self, point_ids: Sequence[str], bounds: Sequence[datetime]
    ) -> dict[str, list[SpanSum | None]]:
        return await interval_sums(self.store.engine, point_ids, bounds)

    async def registers_at_many(self, point_ids: Sequence[str], ts: datetime) -> dict[str, Reading]:
        return await self.store.readings_at(point_ids, ts)

    async def replacements_of(self, meter_ids: Sequence[str]) -> dict[str, list[MeterExchange]]:
        return await self.store.exchanges_of(meter_ids)

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
