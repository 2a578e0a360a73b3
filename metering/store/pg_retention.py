"""PostgreSQL retention by month: a partition wholly past the cut-off is rewritten, not deleted row by row.

Row-by-row DELETE of a month of a portfolio's readings (millions of rows) takes minutes and leaves as
many dead tuples for vacuum to find. When a monthly partition (`partitions.py`) lies wholly before the
cut-off and wholly inside closed billing periods, the rows retention keeps there (see retention.py: each
point's first and last reading of each period, every reading of a point with a dirty span) are copied
aside, the partition is truncated, and they are put back, in one transaction. TRUNCATE frees the space
at once. It holds the partition's ACCESS EXCLUSIVE lock until commit: a query or a backfill of that
old month waits those seconds. A month where nothing would go is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from metering.store import partitions
from metering.store.store import Store

_PARTITIONS = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass"
)
_KEEP = "retention_keep"


def covered(periods: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The closed periods' [start, end) ranges merged where they touch or overlap, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def months_to_rewrite(months: Sequence[int], periods: Sequence[tuple[int, int]], cutoff: int) -> list[int]:
    """The month starts among `months` whose whole month is before `cutoff` and inside closed periods."""
    ranges = covered(periods)
    return [
        m
        for m in sorted(months)
        if partitions.next_month(m) <= cutoff and any(lo <= m and partitions.next_month(m) <= hi for lo, hi in ranges)
    ]


async def rewrite_months(store: Store, periods: Sequence[tuple[int, int]], cutoff: int) -> tuple[int, list[str]]:
    """Rewrite each partition retention may empty but for its kept rows; (rows deleted, months rewritten)."""
    async with store.engine.connect() as conn:
        names = [row.relname for row in await conn.execute(_PARTITIONS) if partitions.is_partition_name(row.relname)]
    starts = {partitions.month_of_name(name): name for name in names}
    deleted, rewritten = 0, []
    for month in months_to_rewrite(list(starts), periods, cutoff):
        overlapping = [(lo, hi) for lo, hi in periods if lo < partitions.next_month(month) and hi > month]
        gone = await _rewrite(store, starts[month], overlapping)
        if gone:
            deleted += gone
            rewritten.append(starts[month])
    return deleted, rewritten


async def _rewrite(store: Store, name: str, periods: Sequence[tuple[int, int]]) -> int:
    part = f'"{name}"'
    async with store.write() as conn:
        await conn.execute(text(f"LOCK TABLE {part} IN ACCESS EXCLUSIVE MODE"))  # no lock upgrade later
        before = int((await conn.execute(text(f"SELECT count(*) FROM {part}"))).scalar_one())
        await conn.execute(text(f"CREATE TEMPORARY TABLE {_KEEP} (LIKE readings) ON COMMIT DROP"))
        await conn.execute(
            text(
                f"INSERT INTO {_KEEP} SELECT r.* FROM {part} r WHERE r.point IN"
                " (SELECT k.id FROM point_keys k JOIN interval_dirty d ON d.point_id = k.key)"
            )
        )
        for lo, hi in periods:  # each point's first and last reading of the period, where they lie here
            params: dict[str, Any] = {"lo": lo, "hi": hi}
            await conn.execute(
                text(
                    f"INSERT INTO {_KEEP} SELECT r.* FROM {part} r JOIN"
                    " (SELECT point, min(ts) AS first, max(ts) AS last FROM readings"
                    "  WHERE ts >= :lo AND ts < :hi GROUP BY point) b"
                    " ON b.point = r.point AND (r.ts = b.first OR r.ts = b.last)"
                ),
                params,
            )
        kept = int((await conn.execute(text(f"SELECT count(DISTINCT (point, ts)) FROM {_KEEP}"))).scalar_one())
        if kept == before:
            return 0  # nothing to go: the temporary table drops at commit
        await conn.execute(text(f"TRUNCATE {part}"))
        await conn.execute(text(f"INSERT INTO {part} SELECT * FROM {_KEEP} ON CONFLICT DO NOTHING"))
    return before - kept
