"""Counter normalisation: golden cases under tests/fixtures/counters_*/ and rules checked one by one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from metering.counters import CounterSpec, FaultKind, NormalisedSeries, normalise
from metering.exchanges import MeterExchange, merge_exchanges
from metering.readings import Quality, Reading

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _run_case(case: Path) -> tuple[NormalisedSeries, dict[str, Any]]:
    given = json.loads((case / "input.json").read_text())
    expected = json.loads((case / "expected.json").read_text())
    readings = [
        Reading(given["point_id"], _ts(row[0]), float(row[1]), Quality(row[2]) if len(row) > 2 else Quality.MEASURED)
        for row in given["readings"]
    ]
    # the pipeline merges exchanges recorded twice before counting (metering.consumption)
    replacements = merge_exchanges(
        [
            MeterExchange("meter", _ts(r["ts"]), float(r["old_final"]), float(r["new_initial"]))
            for r in given.get("replacements", [])
        ]
    )
    return normalise(readings, CounterSpec(**given["spec"]), replacements), expected


@pytest.mark.parametrize("case", sorted(FIXTURES.glob("counters_*")), ids=lambda p: p.name.removeprefix("counters_"))
def test_golden_case(case: Path) -> None:
    series, expected = _run_case(case)
    deltas = [(d.start_ts, d.end_ts, d.quality.value) for d in series.deltas]
    assert deltas == [(_ts(d["start"]), _ts(d["end"]), d["quality"]) for d in expected["deltas"]]
    assert [d.value for d in series.deltas] == pytest.approx([d["value"] for d in expected["deltas"]])
    faults = [(f.ts, f.kind.value, f.raw_before, f.raw_after) for f in series.faults]
    assert faults == [(_ts(f["ts"]), f["kind"], f["raw_before"], f["raw_after"]) for f in expected["faults"]]


def _readings(*values: float, step: timedelta = timedelta(minutes=15)) -> list[Reading]:
    return [Reading("P-1", T0 + i * step, v) for i, v in enumerate(values)]


def test_drop_below_wrap_window_is_backwards_not_rollover() -> None:
    # 999,990 → 500,000: (500,000 − 999,990) mod 10^6 = 500,010 would be invented consumption;
    # 500,000 is not in the bottom 10 % of the range, so it is a fault (confirmed by 500,002 after it).
    series = normalise(_readings(999_980, 999_990, 500_000, 500_002), CounterSpec(digits=6))
    assert [d.value for d in series.deltas] == [10, 2]
    assert [f.kind for f in series.faults] == [FaultKind.BACKWARDS]


def test_drop_without_rollover_range_is_backwards_even_to_zero() -> None:
    series = normalise(_readings(100, 0, 5, 6, 7, 8), CounterSpec())
    assert [d.value for d in series.deltas] == [5, 1, 1, 1]  # continuing from the new value
    assert [f.kind for f in series.faults] == [FaultKind.BACKWARDS]


def test_reset_detection_needs_a_large_drop() -> None:
    # 4100 → 4000 is not ≤ 10 % of 4100 (410): a fault, not a restart, though the course stays there.
    series = normalise(_readings(4100, 4000, 4001), CounterSpec(reset_detection=True))
    assert [d.value for d in series.deltas] == [1]
    assert [f.kind for f in series.faults] == [FaultKind.BACKWARDS]


def test_suspect_reading_at_the_end_stays_provisional() -> None:
    series = normalise(_readings(4100, 4101, 4000), CounterSpec(reset_detection=True))
    assert [d.value for d in series.deltas] == [1]
    assert [(f.kind, f.raw_after) for f in series.faults] == [(FaultKind.PROVISIONAL, 4000)]


def test_rollover_wins_over_reset_near_the_wrap() -> None:
    series = normalise(_readings(9_995, 3), CounterSpec(digits=4, reset_detection=True))
    assert [(d.value, d.quality) for d in series.deltas] == [(8, Quality.MEASURED)]  # 5 to 10,000, then 3
    assert series.faults == ()


def test_multiplier_applies_after_difference_keeping_precision() -> None:
    # Raw 2^52 + 3 − 2^52 = 3 exactly; scaling the totals first (× 0.1) would round them apart.
    big = float(2**52)
    series = normalise(_readings(big, big + 3), CounterSpec(multiplier=0.1))
    assert series.deltas[0].value == pytest.approx(0.3, rel=1e-15)


def test_out_of_range_and_non_finite_readings_are_ignored() -> None:
    values = [999_000, 1_000_000, float("nan"), -1, 999_100]
    series = normalise(_readings(*values), CounterSpec(digits=6))
    assert [(d.start_ts, d.end_ts, d.value) for d in series.deltas] == [(T0, T0 + timedelta(hours=1), 100)]
    assert [f.kind for f in series.faults] == [FaultKind.OUT_OF_RANGE] * 3


def test_out_of_order_reading_is_ignored() -> None:
    readings = [Reading("P-1", T0, 10), Reading("P-1", T0 + timedelta(minutes=15), 20), Reading("P-1", T0, 15)]
    readings.append(Reading("P-1", T0 + timedelta(minutes=30), 26))
    series = normalise(readings, CounterSpec())
    assert [d.value for d in series.deltas] == [10, 6]
    assert [f.kind for f in series.faults] == [FaultKind.OUT_OF_ORDER]


def test_two_exchanges_in_one_step_are_chained() -> None:
    # (50 − 40) + (20 − 0) + (7 − 2) = 10 + 20 + 5 = 35
    exchanges = [
        MeterExchange("meter", T0 + timedelta(minutes=5), 50, 0),
        MeterExchange("meter", T0 + timedelta(minutes=10), 20, 2),
    ]
    series = normalise(_readings(40, 7), CounterSpec(), exchanges)
    assert [(d.value, d.quality) for d in series.deltas] == [(35, Quality.MANUAL)]


def test_reading_at_exchange_instant_is_the_old_meters_final() -> None:
    # readings 40 (old), 50 at the exchange (old final), 9 (new, initial 4): 10, then (50 − 50) + (9 − 4) = 5
    exchange = MeterExchange("meter", T0 + timedelta(minutes=15), 50, 4)
    series = normalise(_readings(40, 50, 9), CounterSpec(), [exchange])
    assert [d.value for d in series.deltas] == [10, 5]


def test_exchange_contradicting_readings_is_a_fault() -> None:
    exchange = MeterExchange("meter", T0 + timedelta(minutes=5), 30, 0)  # old final 30 below the previous 40
    series = normalise(_readings(40, 7, 8), CounterSpec(), [exchange])
    assert [d.value for d in series.deltas] == [1]  # 40 → 7 counts nothing; 7 → 8 counts 1
    assert [f.kind for f in series.faults] == [FaultKind.REPLACEMENT_MISMATCH, FaultKind.BACKWARDS]


def test_mixed_points_are_refused() -> None:
    with pytest.raises(ValueError, match="one point"):
        normalise([Reading("P-1", T0, 1), Reading("P-2", T0 + timedelta(minutes=1), 2)], CounterSpec())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"digits": 6, "bits": 32},
        {"multiplier": 0},
        {"digits": 16},
        {"bits": 65},
        {"max_plausible_delta": -1},
        {"register_scale": 0},
        {"register_scale": float("inf")},
    ],
)
def test_bad_spec_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CounterSpec(**kwargs)


def test_empty_and_single_reading_give_nothing() -> None:
    assert normalise([], CounterSpec()) == NormalisedSeries("")
    assert normalise(_readings(5), CounterSpec()) == NormalisedSeries("P-1")


def test_for_point_rolls_over_at_the_scaled_range() -> None:
    # 5-digit register behind a 200/5 A CT (× 40), stored in kWh: it wraps at 10^5 × 40 = 4,000,000.
    # 3,999,600 → 400 stored is raw 99,990 → 10: (4,000,000 − 3,999,600) + 400 = 800 kWh.
    spec = CounterSpec.for_point(digits=5, scale=40.0)
    assert (spec.wrap, spec.multiplier) == (4_000_000.0, 1.0)
    series = normalise(_readings(3_999_200, 3_999_600, 400), spec)
    assert [d.value for d in series.deltas] == [400, 800]
    assert series.faults == ()


def test_for_point_scales_bits_and_refuses_values_beyond_the_scaled_range() -> None:
    # 16-bit pulse counter, 10 L per pulse stored in m3 (scale 0.01): range 0..655.36 m3.
    spec = CounterSpec.for_point(bits=16, scale=0.01)
    assert spec.wrap == pytest.approx(655.36)
    series = normalise(_readings(655.0, 700.0, 655.2, 0.3), spec)
    assert [d.value for d in series.deltas] == pytest.approx([0.2, 655.36 - 655.2 + 0.3])
    assert [f.kind for f in series.faults] == [FaultKind.OUT_OF_RANGE]


def test_for_point_scales_raw_replacement_values() -> None:
    # YAML says: old dial 1,015 → new dial 3 (raw); stored values are × 40.
    # (1,015 × 40 − 40,400) + (280 − 3 × 40) = 200 + 160 = 360 kWh, manual.
    exchange = MeterExchange("meter", T0 + timedelta(minutes=20), old_final=1_015, new_initial=3)
    spec = CounterSpec.for_point(scale=40.0)
    series = normalise(_readings(40_000, 40_400, 280), spec, [exchange])
    assert [(d.value, d.quality) for d in series.deltas] == [(400, Quality.MEASURED), (360, Quality.MANUAL)]


def test_for_point_without_rollover_is_the_default_spec() -> None:
    assert CounterSpec.for_point() == CounterSpec()
    assert CounterSpec.for_point(scale=2.5, max_plausible_delta=10).max_plausible_delta == 10
