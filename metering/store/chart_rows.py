"""Stored values as plain rows for charts and downloads: (UTC epoch ms, value, quality), oldest first.

A year of one point's 15-minute intervals is 35,040 rows; building an `Interval` (datetime, enum) for
each costs several times the select itself, and a chart needs neither until it has been downsampled.
Spans, sums and per-bucket extremes of intervals read the hourly and daily roll-ups (`rollups`) for
the whole hours and days of a range: a year at daily resolution is 365 rows, not 35,040.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from metering.store import rollups
from metering.store import schema as t
from metering.store.codes import SCALE_MASK, SCALE_SHIFT, quality_of, value_of
from metering.store.store import Store
from metering.store.timecodec import to_ms

Row = tuple[int, float, str]


async def interval_rows(store: Store, point_id: str, start: datetime, end: datetime) -> list[Row]:
    """Intervals of `point_id` whose start is in [start, end)."""
    c = t.intervals.c
    query = (
        select(c.start, c.value, c.quality)
        .where(c.point_id == point_id, c.start >= to_ms(start), c.start < to_ms(end))
        .order_by(c.start)
    )
    async with store.engine.connect() as conn:
        return [(row[0], row[1], row[2]) for row in (await conn.execute(query)).all()]


# Readings are stored compactly (docs/storage.md): the point as an integer key, the value possibly as a
# whole number of tenths/hundredths/thousandths (the scale in the tag), the quality as a code.
_READINGS = t.readings.join(t.point_keys, t.readings.c.point == t.point_keys.c.id)
_SCALE = (t.readings.c.tag // (1 << SCALE_SHIFT)) % (SCALE_MASK + 1)
READING_VALUE = case(
    (_SCALE == 1, t.readings.c.value / 10.0),
    (_SCALE == 2, t.readings.c.value / 100.0),
    (_SCALE == 3, t.readings.c.value / 1000.0),
    else_=t.readings.c.value,
)


async def reading_rows(store: Store, point_id: str, start: datetime, end: datetime) -> list[Row]:
    """Readings of `point_id` with start <= ts < end."""
    c = t.readings.c
    query = (
        select(c.ts, c.value, c.tag)
        .select_from(_READINGS)
        .where(t.point_keys.c.key == point_id, c.ts >= to_ms(start), c.ts < to_ms(end))
        .order_by(c.ts)
    )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [(row[0], value_of(row[1], row[2]), quality_of(row[2]).value) for row in rows]


async def interval_sum(store: Store, point_id: str, start: datetime, end: datetime) -> tuple[float, int]:
    """Sum and count of the intervals of `point_id` starting in [start, end), added up in SQL (whole
    hours and days from the roll-ups)."""
    total, count = 0.0, 0
    async with store.engine.connect() as conn:
        for grain, lo, hi in rollups.plan(to_ms(start), to_ms(end)):
            if grain is None:
                c: Any = t.intervals.c
                query = select(func.sum(c.value), func.count()).where(c.start >= lo)
            else:
                c = rollups.GRAINS[grain].c
                query = select(func.sum(c.total), func.sum(c.count)).where(c.start >= lo)
            part, n = (await conn.execute(query.where(c.point_id == point_id, c.start < hi))).one()
            total, count = total + float(part or 0.0), count + int(n or 0)
    return total, count


def _columns(kind: str) -> tuple[Any, Any, Any, Any]:
    """(table, point column, time column, value column) of intervals or readings."""
    if kind == "intervals":
        return t.intervals, t.intervals.c.point_id, t.intervals.c.start, t.intervals.c.value
    if kind == "readings":
        return _READINGS, t.point_keys.c.key, t.readings.c.ts, READING_VALUE
    raise ValueError(f"unknown kind {kind!r}")


async def row_span(store: Store, kind: str, point_id: str, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(count, first ms, last ms) of the intervals or readings of `point_id` in [start, end); (0, 0, 0)
    when there are none. One index range scan (intervals: a few, over the roll-ups)."""
    if kind == "intervals":
        return await _interval_span(store, point_id, to_ms(start), to_ms(end))
    table, point, ts, _value = _columns(kind)
    query = (
        select(func.count(), func.min(ts), func.max(ts))
        .select_from(table)
        .where(point == point_id, ts >= to_ms(start), ts < to_ms(end))
    )
    async with store.engine.connect() as conn:
        count, first, last = (await conn.execute(query)).one()
    return (int(count), int(first), int(last)) if count else (0, 0, 0)


async def _interval_span(store: Store, point_id: str, lo: int, hi: int) -> tuple[int, int, int]:
    count, first, last = 0, None, None
    async with store.engine.connect() as conn:
        for grain, a, b in rollups.plan(lo, hi):
            if grain is None:
                i = t.intervals.c
                query = select(func.count(), func.min(i.start), func.max(i.start)).where(i.point_id == point_id)
                query = query.where(i.start >= a, i.start < b)
            else:
                r = rollups.GRAINS[grain].c
                query = select(func.sum(r.count), func.min(r.first), func.max(r.last)).where(r.point_id == point_id)
                query = query.where(r.start >= a, r.start < b)
            n, lo_ms, hi_ms = (await conn.execute(query)).one()
            if n:
                count += int(n)
                first = lo_ms if first is None else min(first, lo_ms)
                last = hi_ms if last is None else max(last, hi_ms)
    return (count, int(first), int(last)) if first is not None and last is not None else (0, 0, 0)


Extremes = tuple[int, int, float, float]  # (first ms, last ms, min value, max value) of one bucket


async def bucket_extremes(
    store: Store, kind: str, point_id: str, start: datetime, end: datetime, width_ms: int
) -> list[Extremes]:
    """Minimum and maximum per time bucket of `width_ms` counted from `start`, computed in SQL (GROUP
    BY an integer bucket number: the same on SQLite and PostgreSQL), oldest bucket first.

    Intervals in buckets of an hour or more read the roll-ups: the width is then rounded up to whole
    hours (days) and the buckets counted from the hour (day) holding `start`, so that every rolled-up
    row lies inside one bucket and each bucket's extremes are exactly those of its intervals."""
    if kind == "intervals" and width_ms >= rollups.HOUR_MS:
        return await _rolled_extremes(store, point_id, to_ms(start), to_ms(end), width_ms)
    _table, point, ts, value = _columns(kind)
    origin = to_ms(start)
    bucket = ((ts - origin) // width_ms).label("bucket")  # floor division, rendered for each backend
    query = (
        select(func.min(ts), func.max(ts), func.min(value), func.max(value))
        .select_from(_table)
        .where(point == point_id, ts >= origin, ts < to_ms(end))
        .group_by(bucket)
        .order_by(bucket)
    )
    async with store.engine.connect() as conn:
        return [(int(a), int(b), float(lo), float(hi)) for a, b, lo, hi in (await conn.execute(query)).all()]


async def _rolled_extremes(store: Store, point_id: str, lo: int, hi: int, width_ms: int) -> list[Extremes]:
    grain = rollups.DAY_MS if width_ms >= rollups.DAY_MS else rollups.HOUR_MS
    width = -(-width_ms // grain) * grain
    origin = lo // grain * grain
    merged: dict[int, Extremes] = {}
    async with store.engine.connect() as conn:
        for piece, a, b in rollups.plan(lo, hi, tuple(g for g in (rollups.DAY_MS, rollups.HOUR_MS) if g <= grain)):
            if piece is None:
                i = t.intervals.c
                columns = (i.start, i.start, i.start, i.value, i.value, i.point_id)
            else:
                r = rollups.GRAINS[piece].c
                columns = (r.start, r.first, r.last, r.minimum, r.maximum, r.point_id)
            start, first, last, low, high, point = columns
            bucket = ((start - origin) // width).label("bucket")
            query = (
                select(bucket, func.min(first), func.max(last), func.min(low), func.max(high))
                .where(point == point_id, start >= a, start < b)
                .group_by(bucket)
            )
            for number, f, l_, mn, mx in (await conn.execute(query)).all():
                seen = merged.get(number)
                row = (int(f), int(l_), float(mn), float(mx))
                if seen is not None:
                    row = (min(seen[0], row[0]), max(seen[1], row[1]), min(seen[2], row[2]), max(seen[3], row[3]))
                merged[number] = row
    return [merged[number] for number in sorted(merged)]
