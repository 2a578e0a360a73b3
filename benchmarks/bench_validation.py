"""The cost of validation before counting: the full core pipeline against a bare differencing loop.

Ours: `metering.counters.normalise` (plausibility per step, look-ahead for suspect readings, exchanges,
rollover) then `metering.intervals.to_intervals` (slot split, qualities). Baseline: a loop that only
differences consecutive registers and adds each difference to the quarter hour its reading closes —
no validation, no splitting. Same readings, same run. Readings carry a few glitches, so the
look-ahead runs too. Goal: ours at ≥ 0.5× of the bare loop's readings per second.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from benchmarks.result import Result
from metering.counters import CounterSpec, normalise
from metering.intervals import to_intervals
from metering.readings import Reading

POINTS = int(os.environ.get("BENCH_VALIDATION_POINTS", "20"))
PER_POINT = int(os.environ.get("BENCH_VALIDATION_READINGS", "20000"))  # a minute apart: ~2 weeks
SPEC = CounterSpec.for_point(digits=8, max_plausible_delta=100.0)


def make_series(point: int) -> list[Reading]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    value = 1000.0 * point
    readings = []
    for i in range(PER_POINT):
        value += 0.5 + (i * 7919 % 13) / 26  # 0.5-1 kWh a minute, within the cap
        shown = 0.0 if i % 5000 == 2500 else value  # a transient zero now and then
        readings.append(Reading(f"P-{point}", t0 + timedelta(minutes=i), shown))
    return readings


def ours(series: list[list[Reading]]) -> float:
    total = 0.0
    for readings in series:
        columns = normalise(readings, SPEC).columns
        total += sum(i.value for i in to_intervals(readings[0].point_id, columns))
    return total


def bare(series: list[list[Reading]]) -> float:
    total = 0.0
    for readings in series:
        slots: dict[int, float] = defaultdict(float)
        prev = readings[0]
        for cur in readings[1:]:
            delta = cur.value - prev.value
            if delta >= 0:
                slots[int((cur.ts.timestamp() - 1) // 900)] += delta
            prev = cur
        total += sum(slots.values())
    return total


def timed(run: object, series: list[list[Reading]]) -> tuple[float, float]:
    assert callable(run)
    best = float("inf")
    result = 0.0
    for _ in range(3):
        started = time.perf_counter()
        result = run(series)
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> list[Result]:
    series = [make_series(p) for p in range(POINTS)]
    count = POINTS * PER_POINT
    bare_s, bare_total = timed(bare, series)
    ours_s, ours_total = timed(ours, series)
    print(f"{count:,} readings of {POINTS} points, best of 3 runs")
    print(f"{'case':<44} {'readings/s':>12} {'ratio':>7}  total kWh")
    print(
        f"{'bare loop: difference + quarter-hour bucket':<44} {count / bare_s:>12,.0f} {1.0:>7.2f}  {bare_total:,.1f}"
    )
    print(
        f"{'ours: validation + counters + intervals':<44} {count / ours_s:>12,.0f} {bare_s / ours_s:>7.2f}  "
        f"{ours_total:,.1f}"
    )
    print("(the bare loop counts the rises after each transient zero as consumption; ours does not)")
    return [
        Result.rate(
            "validation pipeline (normalise + intervals) vs bare differencing",
            count / ours_s,
            count / bare_s,
            "readings/s",
            at_least=0.5,
        )
    ]


if __name__ == "__main__":
    main()
