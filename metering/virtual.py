"""Virtual metering points computed slot by slot from the intervals of their inputs.

Typical use is the unmetered remainder of a building, `{P-MAIN} - {P-A} - 0.5*{P-B}`. The formula
itself (syntax, dependencies, evaluation order, cycles) belongs to `point_mapping.formula`, where the
site model is checked; this module only applies a parsed `Formula` to intervals. A slot where an input
is missing is skipped and reported, never computed with a zero: a zero would silently move the missing
consumption onto the remainder's bill.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from metering.quality import worst_of
from metering.readings import Interval
from point_mapping.formula import Formula


@dataclass(frozen=True, slots=True)
class MissingSlot:
    start: datetime
    point_ids: tuple[str, ...]  # inputs without an interval in this slot


@dataclass(frozen=True, slots=True)
class VirtualSeries:
    intervals: tuple[Interval, ...]
    missing: tuple[MissingSlot, ...]


def combine(formula: Formula, value_of: Callable[[str], float]) -> float:
    """Σ coefficient × input: the one arithmetic of a virtual point, per slot and live."""
    return sum(term.coefficient * value_of(term.point_id) for term in formula.terms)


def _slot_value(by_slot: Mapping[str, Mapping[datetime, Interval]], start: datetime) -> Callable[[str], float]:
    return lambda input_id: by_slot[input_id][start].value


def evaluate(formula: Formula, intervals_by_point: Mapping[str, Sequence[Interval]], point_id: str) -> VirtualSeries:
    """Σ coefficient × input per slot where every input has an interval; other slots are reported missing.

    The quality of a computed interval is the worst of its inputs'. Slots no input has are unknown here
    and not reported.
    """
    inputs = formula.dependencies
    if not inputs:
        raise ValueError(f"the formula of {point_id} has no terms")
    by_slot: dict[str, dict[datetime, Interval]] = {}
    for input_id in inputs:
        slots: dict[datetime, Interval] = {}
        for interval in intervals_by_point.get(input_id, ()):
            if interval.start in slots:
                raise ValueError(f"{input_id} has two intervals starting {interval.start.isoformat()}")
            slots[interval.start] = interval
        by_slot[input_id] = slots
    all_slots = sorted({start for slots in by_slot.values() for start in slots})
    computed = []
    missing = []
    for start in all_slots:
        absent = tuple(i for i in inputs if start not in by_slot[i])
        if absent:
            missing.append(MissingSlot(start, absent))
            continue
        value = combine(formula, _slot_value(by_slot, start))
        quality = worst_of(by_slot[i][start].quality for i in inputs)
        computed.append(Interval(point_id, start, value, quality))
    return VirtualSeries(tuple(computed), tuple(missing))
