"""The consumption pipeline: registers → validated deltas → 15-minute intervals → virtual points.

Pure domain logic over the small `ConsumptionRepository` it defines; `metering.store.ConsumptionStore`
implements it. Readings are stored in the point's unit, so the counter spec is built with
`CounterSpec.for_point` (rollover, exchange values and the plausibility cap scaled to that unit).

Intervals follow the data: whatever changes readings or exchanges marks a dirty span, and
`refresh_dirty` recomputes exactly the slots those readings can affect (their neighbours up to the
validation's look-ahead on each side) and replaces the stored rows, stale ones included.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from metering.counters import EXPLAINED, LOOKAHEAD, CounterFault, CounterSpec, FaultKind, normalise
from metering.events import Event
from metering.exchanges import EXCHANGE_TIME_TOLERANCE, MeterExchange, merge_exchanges
from metering.intervals import SLOT, slot_start, to_intervals
from metering.log_context import log_context
from metering.plausibility import point_cap
from metering.readings import Interval, Reading
from metering.virtual import MissingSlot, evaluate
from point_mapping.formula import CycleError, evaluation_order, parse_formula
from point_mapping.loader import LoadedSite
from point_mapping.model import Meter, Point
from point_mapping.registers import PointMeasure, point_measure
from point_mapping.units import CUMULATIVE_QUANTITIES, convert, unit_info

log = logging.getLogger(__name__)

FAULT_EVENT_KIND = "counter_fault"
# Readings of context on each side of a range: the validation looks this far to decide a suspect one.
CONTEXT = LOOKAHEAD + 1
# A recomputation is done in pieces of at most this much, so a years-long backfill stays bounded.
CHUNK = timedelta(days=31)
_SEVERITY = {FaultKind.COUNTER_RESET: "info", FaultKind.GLITCH: "info", FaultKind.EXCHANGE_TIME_ADJUSTED: "info"}


class ConsumptionError(ValueError):
    """A point whose consumption cannot be computed: unknown, instantaneous, or mis-configured."""


@dataclass(frozen=True, slots=True)
class DirtySpan:
    """Readings of `point_id` between `first` and `last` (inclusive) changed since the last computation."""

    point_id: str
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class FrozenPeriod:
    period: str  # 'YYYY-MM'
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class IntervalCorrection:
    """A recomputed interval that differs from the frozen one; None where one side has no interval."""

    point_id: str
    start: datetime
    period: str
    frozen: Interval | None
    recomputed: Interval | None
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class ReplaceOutcome:
    written: int
    removed: int
    corrections: int


class ConsumptionRepository(Protocol):
    async def readings(self, point_id: str, start: datetime, end: datetime) -> list[Reading]: ...
    async def readings_around(self, point_id: str, ts: datetime, *, before: int, after: int) -> list[Reading]: ...
    async def exchanges(self, meter_id: str) -> list[MeterExchange]: ...
    async def intervals(self, point_id: str, start: datetime, end: datetime) -> list[Interval]: ...
    async def add_event(self, event: Event) -> int: ...
    async def replace_intervals(
        self, point_id: str, start: datetime, end: datetime, intervals: Sequence[Interval]
    ) -> ReplaceOutcome: ...
    async def take_dirty(self) -> list[DirtySpan]: ...
    async def mark_dirty(self, spans: Iterable[DirtySpan]) -> None: ...


@dataclass(frozen=True, slots=True)
class PointFault:
    point_id: str
    fault: CounterFault


@dataclass(frozen=True, slots=True)
class ConsumptionResult:
    """15-minute intervals of one point over [start, end), in `unit`, with what went wrong on the way."""

    point_id: str
    unit: str
    resource: str
    start: datetime
    end: datetime
    intervals: tuple[Interval, ...]
    faults: tuple[PointFault, ...] = ()
    missing: tuple[MissingSlot, ...] = field(default=())

    @property
    def total(self) -> float:
        return sum(i.value for i in self.intervals)


async def point_intervals(
    site: LoadedSite, repo: ConsumptionRepository, point_id: str, start: datetime, end: datetime, *, store: bool = True
) -> ConsumptionResult:
    """Compute (and with `store`, store) the intervals of one cumulative point over [start, end)."""
    return await _Run(site, repo, start, end, store=store).point(point_id)


async def refresh_intervals(
    site: LoadedSite, repo: ConsumptionRepository, start: datetime, end: datetime, points: Iterable[str] | None = None
) -> int:
    """Recompute and replace the intervals of `points` (default: every cumulative point) and of every
    virtual point that depends on them, over [start, end), in pieces of at most `CHUNK`."""
    order = refresh_order(site, None if points is None else set(points))
    stored = 0
    async for result in compute_pieces(site, repo, start, end, order, store=True):
        stored += len(result.intervals)
    return stored


async def compute_pieces(
    site: LoadedSite, repo: ConsumptionRepository, start: datetime, end: datetime, order: Sequence[str], *, store: bool
) -> AsyncIterator[ConsumptionResult]:
    """Results of the points in `order` over [start, end), piece by piece (at most `CHUNK` each), so
    memory follows the piece, not the range. Points that cannot be computed are logged and skipped."""
    piece_start = start
    while piece_start < end:
        piece_end = min(end, slot_start(piece_start + CHUNK))
        run = _Run(site, repo, piece_start, piece_end, store=store)
        for point_id in order:
            with log_context(point=point_id):
                try:
                    result = await run.point(point_id)
                except ConsumptionError as error:
                    log.warning("intervals of %s not computed: %s", point_id, error)
                    continue
            yield result
        piece_start = piece_end


async def refresh_dirty(site: LoadedSite, repo: ConsumptionRepository) -> int:
    """Recompute the slots that changed readings can affect; returns how many intervals were stored.

    If a recomputation fails the spans are marked dirty again, so nothing is forgotten.
    """
    spans = await repo.take_dirty()
    try:
        stored = 0
        for span in spans:
            if span.point_id not in site.model.point_by_id:
                continue
            start, end = await affected_range(repo, span)
            stored += await refresh_intervals(site, repo, start, end, [span.point_id])
        return stored
    except BaseException:
        await repo.mark_dirty(spans)
        raise


async def affected_range(repo: ConsumptionRepository, span: DirtySpan) -> tuple[datetime, datetime]:
    """The slots whose value readings in `span` can change: from the `CONTEXT`-th reading before the
    span to the `CONTEXT`-th after it (the validation's look-ahead reaches that far)."""
    before = await repo.readings_around(span.point_id, span.first, before=CONTEXT, after=0)
    after = await repo.readings_around(span.point_id, span.last + timedelta(microseconds=1), before=0, after=CONTEXT)
    first = before[0].ts if before else span.first
    last = after[-1].ts if after else span.last
    return slot_start(first), slot_start(last) + SLOT


async def readings_with_context(
    repo: ConsumptionRepository, point_id: str, start: datetime, end: datetime
) -> list[Reading]:
    """Readings in [start, end) plus `CONTEXT` on each side: the outer ones complete the first and last
    slots and let the validation decide suspect readings near the edges."""
    before = await repo.readings_around(point_id, start, before=CONTEXT, after=0)
    inside = await repo.readings(point_id, start, end)
    after = await repo.readings_around(point_id, end, before=0, after=CONTEXT)
    return [*before, *inside, *after]


def exchange_span(site: LoadedSite, meter_id: str, exchange: MeterExchange) -> list[DirtySpan]:
    """The dirty spans an added exchange makes: every point of the meter around the exchange time."""
    tolerance = EXCHANGE_TIME_TOLERANCE
    return [
        DirtySpan(p.id, exchange.ts - tolerance, exchange.ts + tolerance)
        for p in site.model.points
        if p.meter == meter_id
    ]


def cumulative_point(site: LoadedSite, point_id: str) -> tuple[Point, PointMeasure]:
    """The point and what it measures; `ConsumptionError` unless it is a known cumulative point."""
    point = site.model.point_by_id.get(point_id)
    if point is None:
        raise ConsumptionError(f"unknown point {point_id!r}")
    measure = point_measure(site.model, point, site.profiles)
    if measure is None:
        raise ConsumptionError(f"point {point_id} refers to a meter, device or register that does not exist")
    if not is_cumulative(site, point):
        raise ConsumptionError(
            f"point {point_id} is instantaneous ({measure.unit}); consumption needs a cumulative point"
        )
    return point, measure


def is_cumulative(site: LoadedSite, point: Point) -> bool:
    """True for running totals (energy, volume, pulses); False for power, temperature and the like."""
    measure = point_measure(site.model, point, site.profiles)
    if measure is None:
        return False
    return measure.cumulative and unit_info(measure.unit).quantity in CUMULATIVE_QUANTITIES


def counter_spec(site: LoadedSite, meter: Meter, measure: PointMeasure) -> CounterSpec:
    """How to validate and difference a point's stored readings (all in the point's unit)."""
    device = site.model.device_by_id.get(meter.device)
    profile = site.profiles.get(device.profile or "") if device is not None else None
    return CounterSpec.for_point(
        digits=meter.digits,
        bits=meter.bits,
        # stored value = raw register × CT ratio or pulse weight, converted to the point's unit
        scale=measure.multiplier * convert(1.0, measure.source_unit, measure.unit),
        max_plausible_delta=point_cap(meter, profile, measure.unit),
        reset_detection=meter.pulse_weight is not None,  # pulse inputs count in volatile memory
    )


def declared_exchanges(meter: Meter) -> list[MeterExchange]:
    """The exchanges written in the site YAML, as the one exchange model."""
    return [
        MeterExchange(meter.id, r.at, r.old_final, r.new_initial, note=r.note, source="yaml")
        for r in meter.replacements
    ]


def fault_event(fault: PointFault, meter_id: str) -> Event:
    """The event recording one counter fault; re-running over the same readings adds nothing."""
    found = fault.fault
    return Event(
        kind=FAULT_EVENT_KIND,
        subject=fault.point_id,
        severity=_SEVERITY.get(found.kind, "warning"),
        started_at=found.ts,
        title=f"{fault.point_id}: {found.kind.value}: {found.message}",
        dedup_key=f"{FAULT_EVENT_KIND}:{fault.point_id}:{found.kind.value}:{found.ts.isoformat()}",
        details={
            "fault": found.kind.value,
            "meter": meter_id,
            "before": _finite(found.raw_before),
            "after": _finite(found.raw_after),
            "explained": found.kind in EXPLAINED,
        },
    )


def fault_dicts(faults: Sequence[PointFault]) -> list[dict[str, object]]:
    """Faults as JSON-ready dicts, for the CLI and the web API."""
    return [
        {
            "point": f.point_id,
            "ts": f.fault.ts.isoformat(),
            "kind": f.fault.kind.value,
            "message": f.fault.message,
            "before": _finite(f.fault.raw_before),
            "after": _finite(f.fault.raw_after),
        }
        for f in faults
    ]


def _finite(value: float | None) -> float | None:
    # an out-of-range fault may carry NaN or infinity, which JSON cannot hold
    return value if value is not None and math.isfinite(value) else None


def refresh_order(site: LoadedSite, points: set[str] | None) -> list[str]:
    """Physical points first, then virtual points in formula order; with `points`, only those and the
    virtual points that depend on them (directly or through other virtual points)."""
    model = site.model
    virtual = {p.id: parse_formula(p.formula) for p in model.points if p.formula is not None}
    ordered = [p.id for p in model.points if p.formula is None] + evaluation_order(virtual)
    if points is not None:
        wanted = set(points)
        for point_id in evaluation_order(virtual):
            if wanted & set(virtual[point_id].dependencies):
                wanted.add(point_id)
        ordered = [p for p in ordered if p in wanted]
    return [p for p in ordered if p in model.point_by_id and is_cumulative(site, model.point_by_id[p])]


class _Run:
    """One computation over one range; each point is computed at most once (virtual inputs are shared)."""

    def __init__(
        self, site: LoadedSite, repo: ConsumptionRepository, start: datetime, end: datetime, *, store: bool
    ) -> None:
        for name, moment in (("start", start), ("end", end)):
            if moment.tzinfo is None:
                raise ValueError(f"{name} {moment!r} has no timezone")
            if moment != slot_start(moment):
                raise ValueError(f"{name} {moment.isoformat()} is not on a quarter hour")
        if end <= start:
            raise ValueError(f"end {end.isoformat()} is not after start {start.isoformat()}")
        self.site, self.repo, self.start, self.end, self.store = site, repo, start, end, store
        self._done: dict[str, ConsumptionResult] = {}
        self._visiting: list[str] = []

    async def point(self, point_id: str) -> ConsumptionResult:
        if point_id in self._done:
            return self._done[point_id]
        if point_id in self._visiting:  # the loader refuses cycles; this guards a model built by hand
            raise CycleError([*self._visiting[self._visiting.index(point_id) :], point_id])
        point, measure = cumulative_point(self.site, point_id)
        self._visiting.append(point_id)
        try:
            if point.formula is not None:
                result = await self._virtual(point, measure)
            else:
                result = await self._physical(point, measure)
        finally:
            self._visiting.pop()
        if self.store:
            await self.repo.replace_intervals(point_id, self.start, self.end, result.intervals)
        self._done[point_id] = result
        return result

    async def _physical(self, point: Point, measure: PointMeasure) -> ConsumptionResult:
        assert point.meter is not None  # physical points have a meter, checked on load
        meter = self.site.model.meter_by_id[point.meter]
        readings = await self._readings(point.id)
        exchanges = merge_exchanges(declared_exchanges(meter), await self.repo.exchanges(meter.id))
        series = normalise(readings, counter_spec(self.site, meter, measure), exchanges)
        intervals = to_intervals(point.id, series.columns, window=(self.start, self.end))
        # Faults found in the context readings outside the range belong to the computation of that range.
        faults = tuple(
            PointFault(point.id, f)
            for f in series.faults
            if self.start <= f.ts.astimezone(UTC) < self.end or f.kind is FaultKind.PROVISIONAL
        )
        if self.store:
            for fault in faults:
                if fault.fault.kind is not FaultKind.PROVISIONAL:  # decided later: no event yet
                    await self.repo.add_event(fault_event(fault, meter.id))
        return self._result(point, measure, tuple(intervals), faults)

    async def _virtual(self, point: Point, measure: PointMeasure) -> ConsumptionResult:
        assert point.formula is not None
        formula = parse_formula(point.formula)
        inputs: dict[str, list[Interval]] = {}
        faults: list[PointFault] = []
        for input_id in formula.dependencies:
            result = await self.point(input_id)
            # inputs are stored in their own units; the formula adds them in the virtual point's unit
            factor = convert(1.0, result.unit, measure.unit)
            inputs[input_id] = [Interval(i.point_id, i.start, i.value * factor, i.quality) for i in result.intervals]
            faults.extend(result.faults)
        series = evaluate(formula, inputs, point.id)
        return self._result(point, measure, series.intervals, tuple(faults), series.missing)

    def _result(
        self,
        point: Point,
        measure: PointMeasure,
        intervals: tuple[Interval, ...],
        faults: tuple[PointFault, ...],
        missing: tuple[MissingSlot, ...] = (),
    ) -> ConsumptionResult:
        return ConsumptionResult(
            point_id=point.id,
            unit=measure.unit,
            resource=self.site.model.resource_of(point).value,
            start=self.start,
            end=self.end,
            intervals=intervals,
            faults=faults,
            missing=missing,
        )

    async def _readings(self, point_id: str) -> list[Reading]:
        return await readings_with_context(self.repo, point_id, self.start, self.end)
