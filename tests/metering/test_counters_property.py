"""Property: whatever the register does, the counted total is the true movement of the register.

A generated meter consumes at most half its cap, is polled every 15 minutes with gaps of up to a day,
rolls over its 6-digit register, is exchanged (old final and new initial written down), and some
readings are replaced by transient glitches (a zero, a lower value, a spike above the cap, garbage).
Glitches break the course (below the reading before them, or more than the cap above it) and are
isolated: at least `LOOKAHEAD` good readings between two of them and around an exchange,
and none among the first and the last readings (a suspect reading at the end stays provisional by design).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from metering.counters import LOOKAHEAD, CounterSpec, normalise
from metering.exchanges import MeterExchange
from metering.intervals import to_intervals
from metering.readings import Reading

WRAP = 1_000_000
CAP = 100.0  # per hour
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Meter:
    readings: list[Reading]
    exchanges: list[MeterExchange]
    true_total: float


@st.composite
def meters(draw: st.DrawFn) -> Meter:
    steps = draw(st.integers(min_value=8, max_value=60))
    register = float(draw(st.integers(min_value=0, max_value=WRAP - 1)))
    ts = T0
    readings = [Reading("P", ts, register)]
    exchanges: list[MeterExchange] = []
    total = 0.0
    since_event = LOOKAHEAD + 1
    glitch_at: list[int] = []
    for i in range(1, steps):
        slots = draw(st.sampled_from([1, 1, 1, 1, 2, 4, 12, 96]))  # mostly on time, sometimes a gap
        span = timedelta(minutes=15 * slots)
        used = draw(st.integers(min_value=0, max_value=int(CAP / 2 * span / timedelta(hours=1))))
        exchange = since_event > LOOKAHEAD and i < steps - LOOKAHEAD - 1 and draw(st.booleans()) and not exchanges
        if exchange:
            before = draw(st.integers(min_value=0, max_value=used))
            old_final = (register + before) % WRAP
            new_initial = float(draw(st.integers(min_value=0, max_value=50)))
            exchanges.append(MeterExchange("M", ts + span / 2, old_final, new_initial))
            register = new_initial + (used - before)
            since_event = 0
        else:
            register = (register + used) % WRAP
            since_event += 1
        total += used
        ts += span
        readings.append(Reading("P", ts, register))
        glitchable = since_event > LOOKAHEAD and LOOKAHEAD < i < steps - LOOKAHEAD - 1
        if glitchable and (not glitch_at or i - glitch_at[-1] > LOOKAHEAD + 1) and draw(st.booleans()):
            glitch_at.append(i)
    for i in glitch_at:
        good = readings[i].value
        bad = draw(
            st.sampled_from([0.0, max(0.0, good - 500.0), (good + 5_000.0) % WRAP, float((int(good) * 7919) % WRAP)])
        )
        # A glitch breaks the course: below the reading before it, or beyond it by more than the cap.
        # A wrong value that still lies on the course cannot be told from the truth by anyone.
        previous = readings[i - 1]
        hours = max(readings[i].ts - previous.ts, timedelta(minutes=15)) / timedelta(hours=1)
        if bad < previous.value or bad - previous.value > CAP * hours:
            readings[i] = Reading("P", readings[i].ts, bad)
    return Meter(readings, exchanges, total)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(meters())
def test_total_is_the_true_register_movement(meter: Meter) -> None:
    series = normalise(meter.readings, CounterSpec(digits=6, max_plausible_delta=CAP), meter.exchanges)
    counted = sum(d.value for d in series.deltas)
    assert abs(counted - meter.true_total) < 1e-6, [f.message for f in series.faults]
    intervals = to_intervals("P", series.deltas)
    assert all(i.value >= -1e-9 for i in intervals)
    assert abs(sum(i.value for i in intervals) - counted) < 1e-6
