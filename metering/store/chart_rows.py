"""Stored values as plain rows for charts and downloads: (UTC epoch ms, value, quality), oldest first.

A year of one point's 15-minute intervals is 35,040 rows; building an `Interval` (datetime, enum) for
each costs several times the select itself, and a chart needs neither until it has been downsampled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

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
    """Sum and count of the intervals of `point_id` starting in [start, end), added up in SQL."""
    c = t.intervals.c
    query = select(func.coalesce(func.sum(c.value), 0.0), func.count()).where(
        c.point_id == point_id, c.start >= to_ms(start), c.start < to_ms(end)
    )
    async with store.engine.connect() as conn:
        total, count = (await conn.execute(query)).one()
    return float(total), int(count)


def _columns(kind: str) -> tuple[Any, Any, Any, Any]:
    """(table, point column, time column, value column) of intervals or readings."""
    if kind == "intervals":
        return t.intervals, t.intervals.c.point_id, t.intervals.c.start, t.intervals.c.value
    if kind == "readings":
        return _READINGS, t.point_keys.c.key, t.readings.c.ts, READING_VALUE
    raise ValueError(f"unknown kind {kind!r}")


async def row_span(store: Store, kind: str, point_id: str, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(count, first ms, last ms) of the intervals or readings of `point_id` in [start, end); (0, 0, 0)
    when there are none. One index range scan."""
    table, point, ts, _value = _columns(kind)
    query = (
        select(func.count(), func.min(ts), func.max(ts))
        .select_from(table)
        .where(point == point_id, ts >= to_ms(start), ts < to_ms(end))
    )
    async with store.engine.connect() as conn:
        count, first, last = (await conn.execute(query)).one()
    return (int(count), int(first), int(last)) if count else (0, 0, 0)


Extremes = tuple[int, int, float, float]  # (first ms, last ms, min value, max value) of one bucket


async def bucket_extremes(
    store: Store, kind: str, point_id: str, start: datetime, end: datetime, width_ms: int
) -> list[Extremes]:
    """Minimum and maximum per time bucket of `width_ms` counted from `start`, computed in SQL (GROUP
    BY an integer bucket number: the same on SQLite and PostgreSQL), oldest bucket first."""
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
