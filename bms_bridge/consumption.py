"""Consumption of metering points: stored readings → counter deltas → 15-minute intervals.

This is the service layer around the pure core in `metering` (counters, intervals, virtual): it reads
readings and meter replacements from the store, applies the site model (rollover range, CT ratio or
pulse weight, unit), writes the resulting intervals back to the store's interval table, and records
counter faults as events. Readings are stored in the point's engineering unit, so the counter spec is
built with `CounterSpec.for_point` (rollover and replacement values scaled to that unit).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from metering.counters import CounterFault, CounterSpec, FaultKind, Replacement, normalise
from metering.intervals import slot_start, to_intervals
from metering.readings import Interval, Reading
from metering.store import Store
from metering.store.records import Event
from metering.virtual import MissingSlot, evaluate
from point_mapping.formula import CycleError, evaluation_order, parse_formula
from point_mapping.loader import LoadedSite
from point_mapping.model import Meter, Point
from point_mapping.registers import PointMeasure, point_measure
from point_mapping.units import CUMULATIVE_QUANTITIES, convert, unit_info

log = logging.getLogger(__name__)

FAULT_EVENT_KIND = "counter_fault"
# How far past the end to look for the reading that closes the last slot: near first (the usual poll
# cycle), then further for sparse meters (LPWAN every few hours, monthly manual readings).
_LOOKAHEADS = (timedelta(hours=1), timedelta(days=1), timedelta(days=40))
# A restart of a pulse controller is explained and counted; the other faults lose consumption.
_SEVERITY = {FaultKind.COUNTER_RESET: "info"}


class ConsumptionError(ValueError):
    """A point whose consumption cannot be computed: unknown, instantaneous, or mis-configured."""


@dataclass(frozen=True, slots=True)
class PointFault:
    point_id: str
    fault: CounterFault


@dataclass(frozen=True, slots=True)
class ConsumptionResult:
    """15-minute intervals of one point over [start, end), in `unit`, with what went wrong on the way.

    `faults` include those of a virtual point's inputs; `missing` lists slots a virtual point could not
    compute because an input had no interval there.
    """

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
    site: LoadedSite, store: Store, point_id: str, start: datetime, end: datetime
) -> ConsumptionResult:
    """Compute, store and return the intervals of one cumulative point (physical or virtual).

    `start` and `end` are aware instants on quarter hours. Raises `ConsumptionError` for an unknown or
    instantaneous point.
    """
    return await _Run(site, store, start, end).point(point_id)


async def refresh_intervals(site: LoadedSite, store: Store, start: datetime, end: datetime) -> int:
    """Recompute the intervals of every cumulative point over [start, end); returns how many were stored.

    Physical points come first, then virtual points in formula order, each input computed once.
    Points that cannot be computed (e.g. a formula over an instantaneous point) are logged and skipped.
    """
    run = _Run(site, store, start, end)
    model = site.model
    virtual = {p.id: parse_formula(p.formula) for p in model.points if p.formula is not None}
    physical = [p.id for p in model.points if p.formula is None]
    stored = 0
    for point_id in [*physical, *evaluation_order(virtual)]:
        if not is_cumulative(site, model.point_by_id[point_id]):
            continue
        try:
            result = await run.point(point_id)
        except ConsumptionError as error:
            log.warning("intervals of %s not refreshed: %s", point_id, error)
            continue
        stored += len(result.intervals)
    return stored


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


class _Run:
    """One computation over one range; each point is computed at most once (virtual inputs are shared)."""

    def __init__(self, site: LoadedSite, store: Store, start: datetime, end: datetime) -> None:
        for name, moment in (("start", start), ("end", end)):
            if moment.tzinfo is None:
                raise ValueError(f"{name} {moment!r} has no timezone")
            if moment != slot_start(moment):
                raise ValueError(f"{name} {moment.isoformat()} is not on a quarter hour")
        if end <= start:
            raise ValueError(f"end {end.isoformat()} is not after start {start.isoformat()}")
        self.site, self.store, self.start, self.end = site, store, start, end
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
        await self.store.upsert_intervals(result.intervals)
        self._done[point_id] = result
        return result

    async def _physical(self, point: Point, measure: PointMeasure) -> ConsumptionResult:
        assert point.meter is not None  # physical points have a meter, checked on load
        meter = self.site.model.meter_by_id[point.meter]
        # stored value = raw register × CT ratio or pulse weight, converted to the point's unit
        scale = measure.multiplier * convert(1.0, measure.source_unit, measure.unit)
        spec = CounterSpec.for_point(
            digits=meter.digits,
            bits=meter.bits,
            scale=scale,
            reset_detection=meter.pulse_weight is not None,  # pulse inputs count in volatile memory
        )
        readings = await self._readings(point.id)
        series = normalise(readings, spec, await self._replacements(meter))
        intervals = [i for i in to_intervals(point.id, series.deltas) if self.start <= i.start < self.end]
        faults = tuple(PointFault(point.id, f) for f in series.faults)
        for fault in faults:
            await self.store.add_event(fault_event(fault, meter.id))
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
        """Readings in [start, end] plus the one before start and the first at/after end.

        The outer two complete the first and last slots: the delta from the reading before start
        covers the first slot's beginning, the one after end the last slot's end.
        """
        before = await self.store.reading_before(point_id, self.start)
        inside = await self.store.readings(point_id, self.start, self.end)
        after: list[Reading] = []
        for lookahead in _LOOKAHEADS:
            after = await self.store.readings(point_id, self.end, self.end + lookahead)
            if after:
                break
        return [*([before] if before is not None else []), *inside, *after[:1]]

    async def _replacements(self, meter: Meter) -> list[Replacement]:
        """Exchanges declared in the site YAML and those recorded in the store; YAML wins on a clash."""
        by_ts = {r.at: Replacement(r.at, r.old_final, r.new_initial) for r in meter.replacements}
        for stored in await self.store.replacements(meter.id):
            declared = by_ts.get(stored.ts)
            if declared is None:
                by_ts[stored.ts] = Replacement(stored.ts, stored.old_final, stored.new_initial)
            elif (declared.old_final, declared.new_initial) != (stored.old_final, stored.new_initial):
                log.warning(
                    "meter %s: replacement at %s differs between the site YAML and the store; using the YAML",
                    meter.id,
                    stored.ts.isoformat(),
                )
        return sorted(by_ts.values(), key=lambda r: r.ts)


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
        },
    )


def _finite(value: float | None) -> float | None:
    # an out-of-range fault may carry NaN or infinity, which JSON cannot hold
    return value if value is not None and math.isfinite(value) else None


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
