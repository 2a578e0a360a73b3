"""Virtual metering points: a linear combination of other points, computed slot by slot.

Typical use is the unmetered remainder of a building, `{P-MAIN} - {P-A} - 0.5*{P-B}`. A slot where an
input is missing is skipped and reported, never computed with a zero: a zero would silently move the
missing consumption onto the remainder's bill.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from metering.quality import worst_of
from metering.readings import Interval

_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_POINT_ID = re.compile(r"[^{}\s]+")


class FormulaError(ValueError):
    """A formula that does not parse; `position` is the 0-based offset of the offending character."""

    def __init__(self, message: str, text: str, position: int) -> None:
        super().__init__(f"{message} at position {position} in formula {text!r}")
        self.position = position


class CycleError(ValueError):
    """Virtual points that depend on each other; `cycle` starts and ends with the same point."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__("virtual points form a cycle: " + " → ".join(cycle))
        self.cycle = tuple(cycle)


@dataclass(frozen=True, slots=True)
class Term:
    coefficient: float
    point_id: str


@dataclass(frozen=True, slots=True)
class VirtualFormula:
    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(self.terms))  # accept a list, stay immutable
        if not self.terms:
            raise ValueError("a virtual formula needs at least one term")

    def __str__(self) -> str:
        """The formula in the syntax `parse_formula` reads."""
        text = ""
        for term in self.terms:
            size = abs(term.coefficient)
            sign = "-" if term.coefficient < 0 else ("+" if text else "")
            factor = "" if size == 1 else f"{size!r}*"
            text += f"{' ' if text else ''}{sign}{' ' if text else ''}{factor}{{{term.point_id}}}"
        return text


@dataclass(frozen=True, slots=True)
class MissingSlot:
    start: datetime
    point_ids: tuple[str, ...]  # inputs without an interval in this slot


@dataclass(frozen=True, slots=True)
class VirtualSeries:
    intervals: tuple[Interval, ...]
    missing: tuple[MissingSlot, ...]


def parse_formula(text: str) -> VirtualFormula:
    """Parse `[-] [number *] {POINT} ((+|-) [number *] {POINT})*`; whitespace is free."""
    pos = _skip(text, 0)
    terms = []
    sign = 1.0
    if pos < len(text) and text[pos] in "+-":
        sign = -1.0 if text[pos] == "-" else 1.0
        pos = _skip(text, pos + 1)
    while True:
        term, pos = _term(text, pos, sign)
        terms.append(term)
        pos = _skip(text, pos)
        if pos == len(text):
            return VirtualFormula(tuple(terms))
        if text[pos] not in "+-":
            raise FormulaError(f"expected + or -, found {text[pos]!r}", text, pos)
        sign = -1.0 if text[pos] == "-" else 1.0
        pos = _skip(text, pos + 1)


def _term(text: str, pos: int, sign: float) -> tuple[Term, int]:
    coefficient = 1.0
    number = _NUMBER.match(text, pos)
    if number:
        coefficient = float(number.group())
        pos = _skip(text, number.end())
        if pos >= len(text) or text[pos] != "*":
            raise FormulaError("expected * after a coefficient", text, pos)
        pos = _skip(text, pos + 1)
    if pos >= len(text) or text[pos] != "{":
        found = repr(text[pos]) if pos < len(text) else "end of formula"
        raise FormulaError(f"expected {{POINT-ID}}, found {found}", text, pos)
    point = _POINT_ID.match(text, pos + 1)
    if point is None:
        raise FormulaError("expected a point id inside { }", text, pos + 1)
    if point.end() >= len(text) or text[point.end()] != "}":
        raise FormulaError("expected } after the point id", text, point.end())
    return Term(sign * coefficient, point.group()), point.end() + 1


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def dependencies(formula: VirtualFormula) -> list[str]:
    """The point ids a formula reads, each once, in order of first appearance."""
    return list(dict.fromkeys(term.point_id for term in formula.terms))


def evaluate(
    formula: VirtualFormula, intervals_by_point: Mapping[str, Sequence[Interval]], point_id: str
) -> VirtualSeries:
    """Σ coefficient × input per slot where every input has an interval; other slots are reported missing.

    The quality of a computed interval is the worst of its inputs'. Slots no input has are unknown here
    and not reported.
    """
    inputs = dependencies(formula)
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
        value = sum(term.coefficient * by_slot[term.point_id][start].value for term in formula.terms)
        quality = worst_of(by_slot[i][start].quality for i in inputs)
        computed.append(Interval(point_id, start, value, quality))
    return VirtualSeries(tuple(computed), tuple(missing))


def topological_order(formulas: Mapping[str, VirtualFormula]) -> list[str]:
    """Virtual point ids ordered so each comes after the virtual points it reads.

    Inputs that are not virtual points (physical meters) impose no order. Raises `CycleError` naming
    the cycle, e.g. V-A → V-B → V-A.
    """
    order: list[str] = []
    done: set[str] = set()
    path: list[str] = []  # the chain being visited; a revisit of one of its members closes a cycle

    def visit(point: str) -> None:
        if point in done:
            return
        if point in path:
            raise CycleError([*path[path.index(point) :], point])
        path.append(point)
        for dependency in dependencies(formulas[point]):
            if dependency in formulas:
                visit(dependency)
        path.pop()
        done.add(point)
        order.append(point)

    for point in formulas:
        visit(point)
    return order
