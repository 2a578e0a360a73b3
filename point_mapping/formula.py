"""Virtual metering point formulas: a linear combination of other points, e.g.

    {A.main.energy} - {A1-01.energy} - 0.5 * {A1-02.energy}

Ids go in braces because ids may contain '-'. Only + , - and a numeric coefficient are allowed:
that is what "main minus the sum of sub-meters" and shared splits need, and it keeps every virtual
value a difference of registers (never an arbitrary expression of sampled values).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(?P<id>\{[^{}]*\})|(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<op>[-+*]))")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


@dataclass(frozen=True)
class Term:
    coefficient: float
    point_id: str


@dataclass(frozen=True)
class Formula:
    terms: tuple[Term, ...]

    @property
    def dependencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(term.point_id for term in self.terms))


class FormulaError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        self.position = position  # 0-based character offset in the formula text
        super().__init__(f"{message} (at character {position + 1})")


@functools.lru_cache(maxsize=4096)  # Formula is immutable; the site check, exposure and consumption reuse it
def parse_formula(text: str) -> Formula:
    """Parse `[sign] [number *] {id}` terms joined by + or -."""
    terms: list[Term] = []
    pos, sign, coefficient = 0, 1.0, None
    expect_term, leading_sign = True, False
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FormulaError(f"unexpected {text[pos:].strip()[:1]!r}", pos)
        start = match.start(match.lastgroup or 0)
        pos = match.end()
        if match.group("op") in ("+", "-"):
            if not expect_term and coefficient is None:
                sign, expect_term = (1.0 if match.group("op") == "+" else -1.0), True
            elif expect_term and coefficient is None and not terms and not leading_sign:
                sign, leading_sign = (1.0 if match.group("op") == "+" else -1.0), True
            else:
                raise FormulaError(f"unexpected {match.group('op')!r}", start)
        elif match.group("num") is not None:
            if not expect_term or coefficient is not None:
                raise FormulaError("a number must be followed by '* {point}'", start)
            coefficient = float(match.group("num"))
            star = _TOKEN.match(text, pos)
            if star is None or star.group("op") != "*":
                raise FormulaError("a number must be followed by '* {point}'", start)
            pos = star.end()
        elif match.group("op") == "*":
            raise FormulaError("'*' must follow a number", start)
        else:
            if not expect_term:
                raise FormulaError("missing '+' or '-' between points", start)
            point_id = match.group("id")[1:-1].strip()
            if not _ID.match(point_id):
                raise FormulaError(f"{point_id!r} is not a point id", start)
            terms.append(Term(sign * (1.0 if coefficient is None else coefficient), point_id))
            sign, coefficient, expect_term = 1.0, None, False
    if expect_term:
        raise FormulaError("the formula ends where a point was expected", len(text))
    return Formula(tuple(terms))


class CycleError(ValueError):
    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        super().__init__("virtual points form a cycle: " + " -> ".join(self.cycle))


def evaluation_order(formulas: Mapping[str, Formula]) -> list[str]:
    """Virtual point ids ordered so every input is computed before the points that use it."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(point_id: str, trail: list[str]) -> None:
        if state.get(point_id) == 2:
            return
        if state.get(point_id) == 1:
            raise CycleError([*trail[trail.index(point_id) :], point_id])
        state[point_id] = 1
        for dependency in formulas[point_id].dependencies:
            if dependency in formulas:
                visit(dependency, [*trail, point_id])
        state[point_id] = 2
        order.append(point_id)

    for point_id in sorted(formulas):
        visit(point_id, [])
    return order
