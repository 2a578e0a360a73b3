"""Hourly and daily roll-ups of intervals, kept equal to the intervals in the transaction that writes them.

Incremental by recomputation: a write of intervals names, per point, the span of slots it touched;
the hours covering that span are recomputed from the intervals (delete, then INSERT ... SELECT
GROUP BY), then the days covering it from those hours. A late reading that replaces an interval,
or a recomputation that removes one, so changes exactly the hours and days it falls in, and the
roll-ups are never a second truth that could drift from the intervals.

Hours and days are UTC: a day roll-up serves charts and long-range sums over whole UTC days; a local
day (whole-hour offsets) is 24 hour rows. `plan` splits a range into raw edges and rolled-up middles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from metering.store import schema as t

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
GRAINS: dict[int, Table] = {DAY_MS: t.interval_days, HOUR_MS: t.interval_hours}
_COLUMNS = ["point_id", "start", "total", "count", "minimum", "maximum", "first", "last"]


async def refresh(conn: AsyncConnection, touched: Mapping[str, tuple[int, int]]) -> None:
    """Recompute the roll-ups of each point over the hours and days holding its slots first..last."""
    i, h = t.intervals.c, t.interval_hours.c
    for point, (first, last) in sorted(touched.items()):  # one order for every writer
        lo, hi = first // HOUR_MS * HOUR_MS, last // HOUR_MS * HOUR_MS + HOUR_MS
        hour = (i.start // HOUR_MS) * HOUR_MS
        await _replace(
            conn,
            t.interval_hours,
            point,
            lo,
            hi,
            select(i.point_id, hour, func.sum(i.value), func.count(), func.min(i.value), func.max(i.value))
            .add_columns(func.min(i.start), func.max(i.start))
            .where(i.point_id == point, i.start >= lo, i.start < hi)
            .group_by(i.point_id, hour),
        )
        lo, hi = first // DAY_MS * DAY_MS, last // DAY_MS * DAY_MS + DAY_MS
        day = (h.start // DAY_MS) * DAY_MS
        await _replace(
            conn,
            t.interval_days,
            point,
            lo,
            hi,
            select(h.point_id, day, func.sum(h.total), func.sum(h.count), func.min(h.minimum), func.max(h.maximum))
            .add_columns(func.min(h.first), func.max(h.last))
            .where(h.point_id == point, h.start >= lo, h.start < hi)
            .group_by(h.point_id, day),
        )


async def _replace(conn: AsyncConnection, table: Table, point: str, lo: int, hi: int, source: Any) -> None:
    c = table.c
    await conn.execute(delete(table).where(c.point_id == point, c.start >= lo, c.start < hi))
    await conn.execute(insert(table).from_select(_COLUMNS, source))


Piece = tuple[int | None, int, int]  # (grain in ms or None for raw intervals, from ms, to ms)


def plan(lo: int, hi: int, grains: tuple[int, ...] = (DAY_MS, HOUR_MS)) -> list[Piece]:
    """[lo, hi) as consecutive pieces: whole days from the day roll-up, whole hours at their edges from
    the hour roll-up, and the rest (less than an hour at either end) from the intervals themselves."""
    if lo >= hi:
        return []
    if not grains:
        return [(None, lo, hi)]
    grain, finer = grains[0], grains[1:]
    a, b = -(-lo // grain) * grain, hi // grain * grain
    if a >= b:
        return plan(lo, hi, finer)
    return [*plan(lo, a, finer), (grain, a, b), *plan(b, hi, finer)]
