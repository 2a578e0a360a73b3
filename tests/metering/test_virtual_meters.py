"""Virtual metering points: formula parsing, per-slot evaluation, and ordering with cycle detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from metering.readings import Interval, Quality
from metering.virtual import (
    CycleError,
    FormulaError,
    Term,
    VirtualFormula,
    dependencies,
    evaluate,
    parse_formula,
    topological_order,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("case", sorted(FIXTURES.glob("virtual_*")), ids=lambda p: p.name.removeprefix("virtual_"))
def test_golden_case(case: Path) -> None:
    given = json.loads((case / "input.json").read_text())
    expected = json.loads((case / "expected.json").read_text())
    inputs = {
        point: [Interval(point, _ts(i["start"]), float(i["value"]), Quality(i["quality"])) for i in rows]
        for point, rows in given["intervals"].items()
    }
    series = evaluate(parse_formula(given["formula"]), inputs, given["point_id"])
    got = [(i.point_id, i.start, i.quality.value) for i in series.intervals]
    assert got == [(given["point_id"], _ts(e["start"]), e["quality"]) for e in expected["intervals"]]
    assert [i.value for i in series.intervals] == pytest.approx([e["value"] for e in expected["intervals"]])
    missing = [(m.start, list(m.point_ids)) for m in series.missing]
    assert missing == [(_ts(m["start"]), m["point_ids"]) for m in expected["missing"]]


def test_parse_terms_and_round_trip() -> None:
    formula = parse_formula("  {P-MAIN}-{P-A}  - 0.5 * {P-B} + 2*{P-C}")
    assert formula.terms == (
        Term(1.0, "P-MAIN"),
        Term(-1.0, "P-A"),
        Term(-0.5, "P-B"),
        Term(2.0, "P-C"),
    )
    assert str(formula) == "{P-MAIN} - {P-A} - 0.5*{P-B} + 2.0*{P-C}"
    assert parse_formula(str(formula)) == formula
    assert parse_formula("-{A} + 1e-1*{B}").terms == (Term(-1.0, "A"), Term(0.1, "B"))


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("{A} + ", 6),
        ("{A} {B}", 4),
        ("2 {A}", 2),
        ("{A} - - {B}", 6),
        ("{}", 1),
        ("{A", 2),
        ("{A B}", 2),
        ("{A} * 2", 4),
        ("P-MAIN - {P-A}", 0),
    ],
)
def test_parse_errors_name_the_position(text: str, position: int) -> None:
    with pytest.raises(FormulaError, match=f"at position {position} ") as caught:
        parse_formula(text)
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)


def test_dependencies_once_each_in_order() -> None:
    assert dependencies(parse_formula("{B} + {A} - 0.5*{B}")) == ["B", "A"]


def test_repeated_point_sums_its_coefficients() -> None:
    # {A} - 0.25*{A} on a slot of 8: 8 − 2 = 6
    series = evaluate(parse_formula("{A} - 0.25*{A}"), {"A": [Interval("A", T0, 8.0)]}, "V")
    assert [i.value for i in series.intervals] == [6.0]


def test_input_with_no_intervals_leaves_every_slot_missing() -> None:
    main = [Interval("M", T0 + timedelta(minutes=15 * i), 1.0) for i in range(2)]
    series = evaluate(parse_formula("{M} - {S}"), {"M": main}, "V")
    assert series.intervals == ()
    assert [(m.start, m.point_ids) for m in series.missing] == [(i.start, ("S",)) for i in main]


def test_formula_accepts_a_list_and_refuses_empty() -> None:
    assert VirtualFormula([Term(1.0, "A")]).terms == (Term(1.0, "A"),)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        VirtualFormula(())


def test_topological_order_puts_inputs_first() -> None:
    formulas = {
        "V-TOTAL": parse_formula("{V-COMMON} + {V-TENANTS}"),
        "V-COMMON": parse_formula("{P-MAIN} - {V-TENANTS}"),
        "V-TENANTS": parse_formula("{P-A} + {P-B}"),
    }
    assert topological_order(formulas) == ["V-TENANTS", "V-COMMON", "V-TOTAL"]


def test_cycle_is_named() -> None:
    formulas = {
        "V-A": parse_formula("{P-MAIN} - {V-B}"),
        "V-B": parse_formula("{V-C} + {P-X}"),
        "V-C": parse_formula("0.5*{V-A}"),
    }
    with pytest.raises(CycleError, match="V-A → V-B → V-C → V-A") as caught:
        topological_order(formulas)
    assert caught.value.cycle == ("V-A", "V-B", "V-C", "V-A")


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(CycleError, match="V-A → V-A"):
        topological_order({"V-A": parse_formula("{P-MAIN} - {V-A}")})
