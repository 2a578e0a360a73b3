"""Hourly and daily roll-ups of intervals: always equal to a fresh GROUP BY, and what long charts read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from metering.readings import Interval, Quality
from metering.store import Store
from metering.store.chart_rows import bucket_extremes, interval_sum, row_span
from metering.store.consumption_store import ConsumptionStore
from metering.store.rollups import DAY_MS, HOUR_MS, plan
from metering.store.timecodec import to_ms

T0 = datetime(2026, 3, 1, tzinfo=UTC)
Q = timedelta(minutes=15)

FRESH_HOURS = (
    "SELECT point_id, (start / 3600000) * 3600000 AS h, sum(value), count(*), min(value), max(value),"
    " min(start), max(start) FROM intervals GROUP BY point_id, (start / 3600000) ORDER BY point_id, h"
)
FRESH_DAYS = FRESH_HOURS.replace("3600000", "86400000")
STORED = 'SELECT point_id, start, total, count, minimum, maximum, "first", "last" FROM {} ORDER BY point_id, start'


async def _tables(store: Store) -> list[list[tuple[Any, ...]]]:
    """Hours by a fresh GROUP BY, hours stored, days fresh, days stored."""
    queries = (FRESH_HOURS, STORED.format("interval_hours"), FRESH_DAYS, STORED.format("interval_days"))
    found = []
    async with store.engine.connect() as conn:
        for sql in queries:
            found.append([tuple(row) for row in (await conn.execute(text(sql))).all()])
    return found


async def _assert_rollups_fresh(store: Store) -> None:
    fresh_hours, hours, fresh_days, days = await _tables(store)
    assert hours == fresh_hours
    assert days == fresh_days


def _slots(point: str, start: datetime, values: list[float]) -> list[Interval]:
    return [Interval(point, start + i * Q, v) for i, v in enumerate(values)]


def test_plan_splits_a_range_into_raw_edges_hours_and_days() -> None:
    lo = to_ms(T0) - 30 * 60_000  # 23:30 the day before
    hi = to_ms(T0) + 2 * DAY_MS + HOUR_MS + 45 * 60_000  # 01:45 two days later
    assert plan(lo, hi) == [
        (None, lo, to_ms(T0)),
        (DAY_MS, to_ms(T0), to_ms(T0) + 2 * DAY_MS),
        (HOUR_MS, to_ms(T0) + 2 * DAY_MS, to_ms(T0) + 2 * DAY_MS + HOUR_MS),
        (None, to_ms(T0) + 2 * DAY_MS + HOUR_MS, hi),
    ]
    assert plan(lo, lo + 60_000) == [(None, lo, lo + 60_000)]


async def test_rollups_follow_inserts_replacements_and_deletes(store: Store) -> None:
    # p: 00:00-01:00 = 1 + 2 + 3 + 4 = 10, 01:00 = 5; q on the next day
    await store.upsert_intervals(_slots("p", T0, [1.0, 2.0, 3.0, 4.0, 5.0]))
    await store.upsert_intervals(_slots("q", T0 + timedelta(days=1), [0.5, 0.25]))
    _fresh, hours, _days_fresh, days = await _tables(store)
    assert hours == [
        ("p", to_ms(T0), 10.0, 4, 1.0, 4.0, to_ms(T0), to_ms(T0 + 3 * Q)),
        ("p", to_ms(T0) + HOUR_MS, 5.0, 1, 5.0, 5.0, to_ms(T0 + 4 * Q), to_ms(T0 + 4 * Q)),
        ("q", to_ms(T0) + DAY_MS, 0.75, 2, 0.25, 0.5, to_ms(T0) + DAY_MS, to_ms(T0) + DAY_MS + 15 * 60_000),
    ]
    assert days[0] == ("p", to_ms(T0), 15.0, 5, 1.0, 5.0, to_ms(T0), to_ms(T0 + 4 * Q))
    await _assert_rollups_fresh(store)

    # late data: a recomputation of p's first two hours replaces 00:15, removes 00:45 and 01:00, adds 00:30
    repo = ConsumptionStore(store)
    outcome = await repo.replace_intervals(
        "p",
        T0,
        T0 + 2 * timedelta(hours=1),
        [Interval("p", T0, 1.0), Interval("p", T0 + Q, 7.0), Interval("p", T0 + 2 * Q, 3.0, Quality.ESTIMATED)],
    )
    assert (outcome.written, outcome.removed) == (2, 2)
    _fresh, hours, _days_fresh, days = await _tables(store)
    assert [h for h in hours if h[0] == "p"] == [("p", to_ms(T0), 11.0, 3, 1.0, 7.0, to_ms(T0), to_ms(T0 + 2 * Q))]
    assert days[0] == ("p", to_ms(T0), 11.0, 3, 1.0, 7.0, to_ms(T0), to_ms(T0 + 2 * Q))
    await _assert_rollups_fresh(store)

    # everything of q removed: its hour and day go with it
    await repo.replace_intervals("q", T0 + timedelta(days=1), T0 + timedelta(days=2), [])
    _fresh, hours, _days_fresh, days = await _tables(store)
    assert {h[0] for h in hours} == {d[0] for d in days} == {"p"}
    await _assert_rollups_fresh(store)


async def test_a_year_by_day_reads_the_daily_rollup_and_gives_the_exact_extremes(store: Store) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    slots = 365 * 96
    # values in quarters: every sum is exact in binary, so SQL and Python add up the same
    values = [((i * 37) % 101) / 4 for i in range(slots)]
    values[20_000] = 1000.0  # one spike, kept by the day's maximum
    await store.upsert_intervals(_slots("p", start, values))
    await _assert_rollups_fresh(store)

    # a range not on whole days nor hours: 06:15 on Jan 1st to 12:00 on Dec 31st
    lo, hi = start + timedelta(hours=6, minutes=15), start + timedelta(days=364, hours=12)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        buckets = await bucket_extremes(store, "intervals", "p", lo, hi, DAY_MS)
        span = await row_span(store, "intervals", "p", lo, hi)
        total, count = await interval_sum(store, "p", lo, hi)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)

    first, last = (to_ms(lo) - to_ms(start)) // (15 * 60_000), (to_ms(hi) - to_ms(start)) // (15 * 60_000)
    inside = list(range(first, last))
    expected: dict[int, list[Any]] = {}
    for i in inside:
        day = i // 96  # days counted from 2025-01-01 (the day holding `lo`)
        ms, v = to_ms(start) + i * 15 * 60_000, values[i]
        b = expected.setdefault(day, [ms, ms, v, v])
        b[0], b[1], b[2], b[3] = min(b[0], ms), max(b[1], ms), min(b[2], v), max(b[3], v)
    assert buckets == [tuple(b) for _day, b in sorted(expected.items())]
    assert len(buckets) == 365  # Jan 1st (from 06:15) to Dec 31st (to 12:00)
    assert max(b[3] for b in buckets) == 1000.0
    assert span == (len(inside), to_ms(lo), to_ms(hi) - 15 * 60_000)
    assert (total, count) == (sum(values[first:last]), len(inside))
    # the whole days came from interval_days; the intervals table only for the partial days' edges
    assert any("interval_days" in s for s in statements)
    raw = [s for s in statements if "FROM intervals" in s]
    assert raw and all("interval_days" not in s and "interval_hours" not in s for s in raw)
