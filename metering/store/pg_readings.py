"""PostgreSQL: a batch of readings by COPY, still idempotent.

Fast path: one transaction that widens the points' dirty spans and COPYs the rows (asyncpg's binary
`copy_records_to_table`, on the raw connection) straight into `readings`. COPY cannot skip a row that
is already stored: when one is (a retried batch, a journal stored again, a re-import) the primary key
refuses the COPY, the transaction rolls back, and the batch goes the slow way: COPY into a
session-private temporary table, then one statement moves the rows into `readings` with ON CONFLICT
DO NOTHING (the first reading per point and time stays), widens the dirty spans and empties the
temporary table. Either way the readings and their dirty spans commit together or not at all, and
the count returned is the rows really inserted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

STAGING = "readings_in"
UNIQUE_VIOLATION = "23505"  # SQLSTATE of a duplicate key
_COLUMNS = ["ts", "value", "point", "tag"]
_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING}"
    " (ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, point INTEGER NOT NULL, tag INTEGER NOT NULL)"
)
_WIDEN = (
    " ON CONFLICT (point_id) DO UPDATE SET first_ts = LEAST(interval_dirty.first_ts, excluded.first_ts),"
    " last_ts = GREATEST(interval_dirty.last_ts, excluded.last_ts)"
)
# spans in point order (the caller sorts them): one lock order for every writer, no deadlock
_DIRTY = (
    "INSERT INTO interval_dirty (point_id, first_ts, last_ts)"
    " SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::bigint[])" + _WIDEN
)
_MOVE = (
    f"WITH moved AS (DELETE FROM {STAGING} RETURNING ts, value, point, tag),"
    " inserted AS (INSERT INTO readings (ts, value, point, tag) SELECT ts, value, point, tag FROM moved"
    " ON CONFLICT (point, ts) DO NOTHING RETURNING 1),"
    " dirty AS (INSERT INTO interval_dirty (point_id, first_ts, last_ts)"
    " SELECT k.key, min(m.ts), max(m.ts) FROM moved m JOIN point_keys k ON k.id = m.point"
    " GROUP BY k.key ORDER BY k.key" + _WIDEN + ")"
    " SELECT count(*) FROM inserted"
)
_MADE = "bms_bridge_readings_in"  # marks, in the pooled connection's info, that STAGING exists there


async def copy_readings(
    conn: AsyncConnection, rows: Sequence[tuple[int, float, int, int]], spans: Mapping[str, tuple[int, int]]
) -> int:
    """Store `rows` (ts, value, point id, tag; one per point and time) and widen `spans` (point key ->
    first, last ms) on `conn`, an autocommit connection; how many rows were new."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # asyncpg.Connection
    points = sorted(spans)
    dirty = (points, [spans[p][0] for p in points], [spans[p][1] for p in points])
    try:
        async with driver.transaction():
            await driver.execute(_DIRTY, *dirty)
            await driver.copy_records_to_table("readings", records=rows, columns=_COLUMNS)
        return len(rows)
    except Exception as error:  # the driver's own error: asyncpg's, not wrapped by SQLAlchemy
        if getattr(error, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        # some are stored already: the idempotent way below
    if not conn.info.get(_MADE):
        await driver.execute(_CREATE)
        conn.info[_MADE] = True
    await driver.copy_records_to_table(STAGING, records=rows, columns=_COLUMNS)
    return int(await driver.fetchval(_MOVE))
