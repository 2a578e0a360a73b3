"""Virtual point formulas: terms and coefficients, error positions, dependencies, order and cycles."""

from __future__ import annotations

import re

import pytest

from point_mapping.formula import CycleError, Formula, FormulaError, Term, evaluation_order, parse_formula


def test_terms_signs_and_coefficients() -> None:
    formula = parse_formula("  {P-MAIN}-{P-A}  - 0.5 * {P-B} + 2*{P-C}")
    assert formula.terms == (
        Term(1.0, "P-MAIN"),
        Term(-1.0, "P-A"),
        Term(-0.5, "P-B"),
        Term(2.0, "P-C"),
    )


def test_leading_sign_and_exponent() -> None:
    assert parse_formula("-{A} + 1e-1*{B}").terms == (Term(-1.0, "A"), Term(0.1, "B"))
    assert parse_formula("+{A}").terms == (Term(1.0, "A"),)


def test_site_style_ids_with_dots_and_dashes() -> None:
    formula = parse_formula("{A.main.energy} - {A1-01.energy} - 0.5 * {A1-02.energy}")
    assert [t.point_id for t in formula.terms] == ["A.main.energy", "A1-01.energy", "A1-02.energy"]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "ends where a point was expected"),
        ("{A} + ", 5, "ends where a point was expected"),  # trailing blanks are not counted
        ("{A} {B}", 4, "missing '+' or '-'"),
        ("2 {A}", 0, "number must be followed by"),
        ("{A} - - {B}", 6, "unexpected '-'"),
        ("{}", 0, "'' is not a point id"),
        ("{A", 0, "unexpected '{'"),
        ("{A B}", 0, "'A B' is not a point id"),
        ("{A} * 2", 4, "'*' must follow a number"),
        ("P-MAIN - {P-A}", 0, "unexpected 'P'"),
        ("+-{A}", 1, "unexpected '-'"),  # one leading sign at most
        ("--{A}", 1, "unexpected '-'"),
    ],
)
def test_errors_name_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(FormulaError, match=re.escape(message)) as caught:
        parse_formula(text)
    assert caught.value.position == position
    assert f"(at character {position + 1})" in str(caught.value)  # 1-based for people
    assert isinstance(caught.value, ValueError)


def test_dependencies_once_each_in_order() -> None:
    assert parse_formula("{B} + {A} - 0.5*{B}").dependencies == ("B", "A")


def test_evaluation_order_puts_inputs_first() -> None:
    formulas = {
        "V-TOTAL": parse_formula("{V-COMMON} + {V-TENANTS}"),
        "V-COMMON": parse_formula("{P-MAIN} - {V-TENANTS}"),
        "V-TENANTS": parse_formula("{P-A} + {P-B}"),
    }
    assert evaluation_order(formulas) == ["V-TENANTS", "V-COMMON", "V-TOTAL"]


def test_cycle_is_named() -> None:
    formulas = {
        "V-A": parse_formula("{P-MAIN} - {V-B}"),
        "V-B": parse_formula("{V-C} + {P-X}"),
        "V-C": parse_formula("0.5*{V-A}"),
    }
    with pytest.raises(CycleError, match="V-A -> V-B -> V-C -> V-A") as caught:
        evaluation_order(formulas)
    assert caught.value.cycle == ["V-A", "V-B", "V-C", "V-A"]


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(CycleError, match="V-A -> V-A"):
        evaluation_order({"V-A": parse_formula("{P-MAIN} - {V-A}")})


def test_formula_is_a_plain_value() -> None:
    assert parse_formula("{A} - {B}") == Formula((Term(1.0, "A"), Term(-1.0, "B")))
