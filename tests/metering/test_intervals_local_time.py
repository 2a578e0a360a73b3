"""Local-time buckets: DST days in Europe/Berlin have 92 or 100 quarter hours and 23 or 25 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from metering.intervals import aggregate, local_day_slots
from metering.readings import Interval, Quality

BERLIN = ZoneInfo("Europe/Berlin")
SPRING = date(2026, 3, 29)  # 02:00 CET → 03:00 CEST
AUTUMN = date(2026, 10, 25)  # 03:00 CEST → 02:00 CET


def _ones(slots: list[datetime], point_id: str = "P-1") -> list[Interval]:
    """One unit of consumption per slot, so every bucket's value equals its slot count."""
    return [Interval(point_id, s.astimezone(UTC), 1.0) for s in slots]


@pytest.mark.parametrize(("day", "slots"), [(SPRING, 92), (date(2026, 6, 1), 96), (AUTUMN, 100)])
def test_local_day_slots(day: date, slots: int) -> None:
    starts = local_day_slots(day, BERLIN)
    assert len(starts) == slots  # 23 × 4, 24 × 4, 25 × 4
    assert starts[0] == datetime(day.year, day.month, day.day, tzinfo=BERLIN)
    # Subtracting datetimes of the same zone uses wall time, so compare in UTC.
    assert all(b.astimezone(UTC) - a.astimezone(UTC) == timedelta(minutes=15) for a, b in pairwise(starts))
    assert {s.date() for s in starts} == {day}


def test_spring_day_has_23_hours() -> None:
    hours = aggregate(_ones(local_day_slots(SPRING, BERLIN)), "hour", BERLIN)
    assert len(hours) == 23
    assert [b.start_local.hour for b in hours[:3]] == [0, 1, 3]  # 02:00 does not exist
    assert all(b.value == 4 and b.count == 4 and b.complete for b in hours)
    [day] = aggregate(_ones(local_day_slots(SPRING, BERLIN)), "day", BERLIN)
    assert (day.value, day.count, day.complete) == (92, 92, True)
    assert day.start_local.isoformat() == "2026-03-29T00:00:00+01:00"
    assert day.end_local.isoformat() == "2026-03-30T00:00:00+02:00"


def test_autumn_day_has_25_hours_with_02_twice() -> None:
    hours = aggregate(_ones(local_day_slots(AUTUMN, BERLIN)), "hour", BERLIN)
    assert len(hours) == 25
    twice = [b.start_local.isoformat() for b in hours if b.start_local.hour == 2]
    assert twice == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    assert all(b.value == 4 and b.complete for b in hours)
    [day] = aggregate(_ones(local_day_slots(AUTUMN, BERLIN)), "day", BERLIN)
    assert (day.value, day.count, day.complete) == (100, 100, True)


def test_quarter_hour_buckets_are_local() -> None:
    buckets = aggregate(_ones(local_day_slots(AUTUMN, BERLIN)), "15min", BERLIN)
    assert len(buckets) == 100
    assert buckets[0].start_local.isoformat() == "2026-10-25T00:00:00+02:00"
    assert buckets[-1].end_local.isoformat() == "2026-10-26T00:00:00+01:00"


def _month(year: int, month: int) -> list[datetime]:
    day = date(year, month, 1)
    slots: list[datetime] = []
    while day.month == month:
        slots += local_day_slots(day, BERLIN)
        day += timedelta(days=1)
    return slots


def test_month_across_spring_change() -> None:
    # March 2026: 31 days × 96 − 4 (the lost hour) = 2972 quarter hours.
    intervals = _ones(_month(2026, 3))
    intervals[10] = Interval("P-1", intervals[10].start, 1.0, Quality.ESTIMATED)
    [march] = aggregate(intervals, "month", BERLIN)
    assert (march.value, march.count, march.complete, march.quality) == (2972, 2972, True, Quality.ESTIMATED)
    assert march.start_local.isoformat() == "2026-03-01T00:00:00+01:00"
    assert march.end_local.isoformat() == "2026-04-01T00:00:00+02:00"


def test_month_across_autumn_change_with_a_missing_slot() -> None:
    # October 2026: 31 × 96 + 4 (the repeated hour) = 2980 quarter hours; one missing → 2979, incomplete.
    intervals = _ones(_month(2026, 10))
    del intervals[500]
    [october] = aggregate(intervals, "month", BERLIN)
    assert (october.value, october.count, october.complete) == (2979, 2979, False)
    assert october.start_local.isoformat() == "2026-10-01T00:00:00+02:00"
    assert october.end_local.isoformat() == "2026-11-01T00:00:00+01:00"


def test_days_are_split_at_local_midnight() -> None:
    # 23:00 UTC on 28 March is 00:00 CET on 29 March: slots either side belong to different local days.
    before, after = datetime(2026, 3, 28, 22, 45, tzinfo=UTC), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    days = aggregate([Interval("P-1", before, 2.0), Interval("P-1", after, 3.0)], "day", BERLIN)
    assert [(b.start_local.date(), b.value, b.count, b.complete) for b in days] == [
        (date(2026, 3, 28), 2.0, 1, False),
        (SPRING, 3.0, 1, False),
    ]


def test_hours_in_a_quarter_hour_offset_zone() -> None:
    # Nepal is UTC+05:45: the local hour 10:00–11:00 is 04:15–05:15 UTC.
    nepal = ZoneInfo("Asia/Kathmandu")
    start = datetime(2026, 1, 15, 4, 15, tzinfo=UTC)
    intervals = [Interval("P-1", start + timedelta(minutes=15 * i), 1.0) for i in range(4)]
    [hour] = aggregate(intervals, "hour", nepal)
    assert hour.start_local.isoformat() == "2026-01-15T10:00:00+05:45"
    assert (hour.value, hour.complete) == (4, True)


def test_bad_input_is_refused() -> None:
    start = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="quarter hour"):
        aggregate([Interval("P-1", start + timedelta(minutes=5), 1.0)], "hour", BERLIN)
    with pytest.raises(ValueError, match="two intervals"):
        aggregate([Interval("P-1", start, 1.0), Interval("P-2", start, 1.0)], "hour", BERLIN)
    with pytest.raises(ValueError, match="bucket size"):
        aggregate([Interval("P-1", start, 1.0)], "week", BERLIN)  # type: ignore[arg-type]
    assert aggregate([], "day", BERLIN) == []


@pytest.mark.parametrize(("day", "count"), [(AUTUMN, 100), (SPRING, 92)])
def test_quarter_hour_buckets_are_listed_in_time_order_on_dst_days(day: date, count: int) -> None:
    # Given in any order (here reversed), the buckets come out by instant: on the autumn day
    # 02:45+02:00, then 02:00+01:00 — not 02:00+01:00 before 02:15+02:00 as wall-clock order would put them.
    buckets = aggregate(list(reversed(_ones(local_day_slots(day, BERLIN)))), "15min", BERLIN)
    assert len(buckets) == count
    instants = [b.start_local.astimezone(UTC) for b in buckets]
    assert instants == sorted(instants)
    assert all(b - a == timedelta(minutes=15) for a, b in pairwise(instants))
    if day == AUTUMN:
        labels = [f"{b.start_local:%H:%M%z}" for b in buckets[8:14]]
        assert labels == ["02:00+0200", "02:15+0200", "02:30+0200", "02:45+0200", "02:00+0100", "02:15+0100"]
