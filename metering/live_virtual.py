"""Live virtual totals (e.g. common areas = main − Σ tenants) from the validated consumption of their inputs.

A virtual total made of raw registers jumps when one input's meter is exchanged (the new register starts
near zero) or glitches. Here each cumulative input contributes its first register plus the consumption
`metering.counters.normalise` validates step by step, exchanges bridged, so the live total moves exactly
as the intervals do; `metering.virtual.combine` adds them up, as it does per slot. Instantaneous inputs
(power, temperature) contribute their latest value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from metering.consumption import counter_spec, declared_exchanges, is_cumulative
from metering.counters import LOOKAHEAD, CounterSpec, normalise
from metering.exchanges import MeterExchange, merge_exchanges
from metering.readings import Reading
from metering.virtual import combine
from point_mapping.formula import Formula, Term, evaluation_order, parse_formula
from point_mapping.loader import LoadedSite
from point_mapping.registers import point_measure
from point_mapping.units import convert


@dataclass(frozen=True, slots=True)
class InputCounter:
    """How to validate one cumulative input's readings (its spec and meter exchanges)."""

    spec: CounterSpec
    exchanges: tuple[MeterExchange, ...] = ()


@dataclass(slots=True)
class _Course:
    counter: InputCounter
    first: float | None = None
    last: Reading | None = None
    consumed: float = 0.0
    refused: int = 0  # consecutive readings that did not continue from `last`

    def observe(self, reading: Reading) -> bool:
        """Take one reading; True when the input's total moved on."""
        if self.last is None:
            self.first, self.last = reading.value, reading
            return True
        if reading.ts <= self.last.ts:
            return False
        series = normalise([self.last, reading], self.counter.spec, self.counter.exchanges)
        if len(series.columns):
            self.consumed += series.columns.total()
            self.last, self.refused = reading, 0
            return True
        self.refused += 1
        if self.refused >= LOOKAHEAD:
            # The register stayed off the old course (an unrecorded exchange, a confirmed jump): follow it
            # from here; as in the intervals, nothing is counted for the step no rule explains.
            self.last, self.refused = reading, 0
        return False

    @property
    def total(self) -> float:
        assert self.first is not None
        return self.first + self.consumed


@dataclass
class LiveTotals:
    """Virtual points in evaluation order (inputs first); coefficients already in the virtual point's unit."""

    formulas: Mapping[str, Formula]
    counters: Mapping[str, InputCounter]  # the cumulative inputs; any other input counts by its latest value
    _courses: dict[str, _Course] = field(default_factory=dict)
    _latest: dict[str, tuple[datetime, float]] = field(default_factory=dict)

    def observe(self, readings: Iterable[Reading]) -> dict[str, tuple[datetime, float]]:
        """Take new readings of any points; returns the virtual points whose value changed, with (ts, value)."""
        moved: set[str] = set()
        inputs = {i for f in self.formulas.values() for i in f.dependencies}
        for reading in readings:
            if reading.point_id in inputs and self._take(reading):
                moved.add(reading.point_id)
        changed: dict[str, tuple[datetime, float]] = {}
        for point_id, formula in self.formulas.items():
            if moved.isdisjoint(formula.dependencies):
                continue
            if any(i not in self._latest for i in formula.dependencies):
                continue
            # as old as its oldest input: a virtual total is only as fresh as what it is made of
            ts = min(self._latest[i][0] for i in formula.dependencies)
            value = (ts, combine(formula, lambda i: self._latest[i][1]))
            self._latest[point_id] = value
            changed[point_id] = value
            moved.add(point_id)
        return changed

    def _take(self, reading: Reading) -> bool:
        counter = self.counters.get(reading.point_id)
        if counter is None:
            previous = self._latest.get(reading.point_id)
            if previous is not None and previous[0] > reading.ts:
                return False
            self._latest[reading.point_id] = (reading.ts, reading.value)
            return True
        course = self._courses.setdefault(reading.point_id, _Course(counter))
        if not course.observe(reading):
            return False
        self._latest[reading.point_id] = (reading.ts, course.total)
        return True


def scaled(formula: Formula, factors: Mapping[str, float]) -> Formula:
    """The formula with each coefficient times its input's unit factor (input unit → virtual point's unit)."""
    return Formula(tuple(Term(t.coefficient * factors.get(t.point_id, 1.0), t.point_id) for t in formula.terms))


class ExchangeSource(Protocol):
    async def exchanges(self, meter_id: str) -> list[MeterExchange]: ...


async def live_totals(site: LoadedSite, repo: ExchangeSource) -> LiveTotals:
    """The site's virtual points, with each cumulative input validated as the interval pipeline does."""
    model = site.model
    formulas = {p.id: parse_formula(p.formula) for p in model.points if p.formula is not None}
    ordered: dict[str, Formula] = {}
    counters: dict[str, InputCounter] = {}
    for point_id in evaluation_order(formulas):
        unit = model.point_by_id[point_id].unit
        assert unit is not None  # required for virtual points by the model
        factors = {}
        for input_id in formulas[point_id].dependencies:
            measure = point_measure(model, model.point_by_id[input_id], site.profiles)
            factors[input_id] = convert(1.0, measure.unit, unit) if measure else 1.0
            point = model.point_by_id[input_id]
            meter = model.meter_by_id.get(point.meter or "")
            if measure is None or meter is None or not is_cumulative(site, point):
                continue
            stored = await repo.exchanges(meter.id)
            exchanges = tuple(merge_exchanges(declared_exchanges(meter), stored))
            counters[input_id] = InputCounter(counter_spec(site, meter, measure), exchanges)
        ordered[point_id] = scaled(formulas[point_id], factors)
    return LiveTotals(ordered, counters)
