"""Deltas into 15-minute intervals: golden cases under tests/fixtures/intervals_*/ and the slot rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from metering.counters import CounterSpec, Delta, normalise
from metering.intervals import SLOT, slot_start, to_intervals
from metering.readings import Quality, Reading

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("case", sorted(FIXTURES.glob("intervals_*")), ids=lambda p: p.name.removeprefix("intervals_"))
def test_golden_case(case: Path) -> None:
    given = json.loads((case / "input.json").read_text())
    expected = json.loads((case / "expected.json").read_text())
    deltas = [Delta(_ts(d["start"]), _ts(d["end"]), float(d["value"]), Quality(d["quality"])) for d in given["deltas"]]
    intervals = to_intervals(given["point_id"], deltas)
    assert {i.point_id for i in intervals} == {given["point_id"]}
    got = [(i.start, i.quality.value) for i in intervals]
    assert got == [(_ts(e["start"]), e["quality"]) for e in expected["intervals"]]
    assert [i.value for i in intervals] == pytest.approx([e["value"] for e in expected["intervals"]])
    assert sum(i.value for i in intervals) == pytest.approx(expected["total"])


def test_split_conserves_an_awkward_total() -> None:
    # 0.1 over 10:05–10:50 (45 min): 10/45, 15/45, 15/45, 5/45 of it; the last slot takes the remainder.
    intervals = to_intervals("P-1", [Delta(T0 + 5 * M, T0 + 50 * M, 0.1)])
    assert [i.start for i in intervals] == [T0, T0 + 15 * M, T0 + 30 * M, T0 + 45 * M]
    assert [i.value for i in intervals] == pytest.approx([0.1 * 10 / 45, 0.1 / 3, 0.1 / 3, 0.1 * 5 / 45])
    assert sum(i.value for i in intervals) == pytest.approx(0.1, rel=1e-15)


def test_60s_polling_across_boundaries_stays_measured() -> None:
    # A poll every 60 s that drifted 30 s: 09:59:30, 10:00:30, ... 10:30:30; 0.5 kWh per minute.
    # The 10:14:30–10:15:30 step is split 0.25 / 0.25 at 10:15: interpolation over one poll, not a gap.
    readings = [Reading("P-1", T0 - 30 * S + i * M, 100 + 0.5 * i) for i in range(32)]
    intervals = to_intervals("P-1", normalise(readings, CounterSpec()).deltas)
    assert [i.start for i in intervals] == [T0 - 15 * M, T0, T0 + 15 * M, T0 + 30 * M]
    inner = intervals[1:3]  # fully covered slots: 15 min × 0.5 = 7.5 each
    assert [i.value for i in inner] == pytest.approx([7.5, 7.5])
    assert [i.quality for i in inner] == [Quality.MEASURED, Quality.MEASURED]
    # The first and last slots are only partly covered by the series: lower bounds.
    assert [i.quality for i in (intervals[0], intervals[-1])] == [Quality.QUESTIONABLE, Quality.QUESTIONABLE]
    assert [i.value for i in (intervals[0], intervals[-1])] == pytest.approx([0.25, 0.25])


@pytest.mark.parametrize(
    ("span_minutes", "quality"),
    [(10, Quality.MEASURED), (15, Quality.MEASURED), (16, Quality.ESTIMATED), (40, Quality.ESTIMATED)],
)
def test_max_measured_span_default_is_one_slot(span_minutes: int, quality: Quality) -> None:
    # The delta ends at 10:20, so it crosses 10:15; short measured fillers complete the slots it touches.
    start, end = T0 + 20 * M - span_minutes * M, T0 + 20 * M
    deltas = [Delta(slot_start(start), start, 1.0), Delta(start, end, 1.0), Delta(end, T0 + 30 * M, 1.0)]
    intervals = to_intervals("P-1", deltas)
    assert len(intervals) > 1
    assert {i.quality for i in intervals} == {quality}
    assert sum(i.value for i in intervals) == pytest.approx(3.0)


def test_max_measured_span_is_a_parameter() -> None:
    delta = Delta(T0 + 10 * M, T0 + 20 * M, 2.0)
    strict = to_intervals("P-1", [delta], max_measured_span=timedelta(0))
    assert [(i.value, i.quality) for i in strict] == [(1.0, Quality.QUESTIONABLE), (1.0, Quality.QUESTIONABLE)]
    lax = to_intervals("P-1", [Delta(T0, T0 + 2 * SLOT, 2.0)], max_measured_span=timedelta(hours=1))
    assert [i.quality for i in lax] == [Quality.MEASURED, Quality.MEASURED]
    with pytest.raises(ValueError, match="negative"):
        to_intervals("P-1", [delta], max_measured_span=-M)


def test_split_across_a_gap_keeps_a_worse_quality() -> None:
    # A manual delta over 30 min is split into estimated parts; a short manual one stays manual.
    long = to_intervals("P-1", [Delta(T0, T0 + 30 * M, 2.0, Quality.MANUAL)])
    short = to_intervals("P-1", [Delta(T0 + 10 * M, T0 + 20 * M, 2.0, Quality.MANUAL)])
    assert [i.quality for i in long] == [Quality.ESTIMATED, Quality.ESTIMATED]
    assert {i.quality for i in short} == {Quality.QUESTIONABLE}  # partly covered slots


def test_delta_exactly_one_slot_keeps_its_quality() -> None:
    [interval] = to_intervals("P-1", [Delta(T0, T0 + 15 * M, 4.0, Quality.MANUAL)])
    assert (interval.start, interval.value, interval.quality) == (T0, 4.0, Quality.MANUAL)


def test_partly_covered_slot_is_questionable() -> None:
    # 10:00–10:05 and 10:10–10:15 known, 10:05–10:10 lost to a fault: 1 + 3 = 4 is a lower bound.
    deltas = [Delta(T0, T0 + 5 * M, 1.0), Delta(T0 + 10 * M, T0 + 15 * M, 3.0)]
    [interval] = to_intervals("P-1", deltas)
    assert (interval.value, interval.quality) == (4.0, Quality.QUESTIONABLE)


def test_non_utc_timestamps_land_in_utc_slots() -> None:
    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))  # 11:00+01:00
    [interval] = to_intervals("P-1", [Delta(berlin, berlin + 15 * M, 2.0)])
    assert interval.start == T0 and interval.start.tzinfo is UTC


def test_backwards_delta_is_refused() -> None:
    with pytest.raises(ValueError, match="not after"):
        to_intervals("P-1", [Delta(T0, T0, 1.0)])


def test_slot_start_floors_to_the_quarter_hour() -> None:
    assert slot_start(T0 + timedelta(minutes=29, seconds=59, microseconds=1)) == T0 + 15 * M
    assert slot_start(T0 + 30 * M) == T0 + 30 * M


def test_readings_to_intervals_end_to_end() -> None:
    # 6-digit dial read every 15 min with a rollover and a 30-minute gap:
    # 10:00–10:15 999,990 − 999,980 = 10; 10:15–10:30 (10^6 − 999,990) + 12 = 22;
    # 10:30–11:00 (42 − 12) = 30 over two slots → 15 + 15, estimated.
    values = [(0, 999_980.0), (15, 999_990.0), (30, 12.0), (60, 42.0)]
    readings = [Reading("P-1", T0 + m * M, v) for m, v in values]
    intervals = to_intervals("P-1", normalise(readings, CounterSpec(digits=6)).deltas)
    assert [(i.value, i.quality) for i in intervals] == [
        (10, Quality.MEASURED),
        (22, Quality.MEASURED),
        (15, Quality.ESTIMATED),
        (15, Quality.ESTIMATED),
    ]
