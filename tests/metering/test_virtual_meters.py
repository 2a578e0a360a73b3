"""Virtual metering points evaluated slot by slot (formula syntax: tests/point_mapping/test_formula.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from metering.readings import Interval, Quality
from metering.virtual import evaluate
from point_mapping.formula import Formula, parse_formula

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


def test_repeated_point_sums_its_coefficients() -> None:
    # {A} - 0.25*{A} on a slot of 8: 8 − 2 = 6
    series = evaluate(parse_formula("{A} - 0.25*{A}"), {"A": [Interval("A", T0, 8.0)]}, "V")
    assert [i.value for i in series.intervals] == [6.0]


def test_input_with_no_intervals_leaves_every_slot_missing() -> None:
    main = [Interval("M", T0 + timedelta(minutes=15 * i), 1.0) for i in range(2)]
    series = evaluate(parse_formula("{M} - {S}"), {"M": main}, "V")
    assert series.intervals == ()
    assert [(m.start, m.point_ids) for m in series.missing] == [(i.start, ("S",)) for i in main]


def test_duplicate_input_slot_is_refused() -> None:
    twice = [Interval("A", T0, 1.0), Interval("A", T0, 2.0)]
    with pytest.raises(ValueError, match="two intervals"):
        evaluate(parse_formula("{A}"), {"A": twice}, "V")


def test_empty_formula_is_refused() -> None:
    with pytest.raises(ValueError, match="no terms"):
        evaluate(Formula(()), {}, "V")
