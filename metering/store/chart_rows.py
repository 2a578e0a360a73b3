"""Stored values as plain rows for charts and downloads: (UTC epoch ms, value, quality), oldest first.

A year of one point's 15-minute intervals is 35,040 rows; building an `Interval` (datetime, enum) for
each costs several times the select itself, and a chart needs neither until it has been downsampled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from metering.store import schema as t
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


async def reading_rows(store: Store, point_id: str, start: datetime, end: datetime) -> list[Row]:
    """Readings of `point_id` with start <= ts < end."""
    c = t.readings.c
    query = (
        select(c.ts, c.value, c.quality)
        .where(c.point_id == point_id, c.ts >= to_ms(start), c.ts < to_ms(end))
        .order_by(c.ts)
    )
    async with store.engine.connect() as conn:
        return [(row[0], row[1], row[2]) for row in (await conn.execute(query)).all()]


async def interval_sum(store: Store, point_id: str, start: datetime, end: datetime) -> tuple[float, int]:
    """Sum and count of the intervals of `point_id` starting in [start, end), added up in SQL."""
    c = t.intervals.c
    query = select(func.coalesce(func.sum(c.value), 0.0), func.count()).where(
        c.point_id == point_id, c.start >= to_ms(start), c.start < to_ms(end)
    )
    async with store.engine.connect() as conn:
        total, count = (await conn.execute(query)).one()
    return float(total), int(count)
