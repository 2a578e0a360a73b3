"""PostgreSQL: a batch of readings by COPY, still idempotent.

COPY cannot skip a row that is already stored, so the rows go by COPY (asyncpg's binary
`copy_records_to_table`, on the raw connection) into a session-private temporary table, and one
statement moves them into `readings` with ON CONFLICT DO NOTHING (the first reading per point and
time stays), widens the points' dirty spans to cover them, and empties the temporary table. That
statement is its own transaction: the readings and their dirty spans commit together or not at all.
Rows left in the temporary table by a failed statement are moved by the next one on that connection
(the writer retries the same batch; duplicates are skipped), never without their dirty spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

STAGING = "readings_in"
_COLUMNS = ["ts", "value", "point", "tag"]
_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING}"
    " (ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, point INTEGER NOT NULL, tag INTEGER NOT NULL)"
)
# dirty spans per point key, in key order (one lock order for every writer: no deadlock)
_MOVE = (
    f"WITH moved AS (DELETE FROM {STAGING} RETURNING ts, value, point, tag),"
    " inserted AS (INSERT INTO readings (ts, value, point, tag) SELECT ts, value, point, tag FROM moved"
    " ON CONFLICT (point, ts) DO NOTHING RETURNING 1),"
    " dirty AS (INSERT INTO interval_dirty (point_id, first_ts, last_ts)"
    " SELECT k.key, min(m.ts), max(m.ts) FROM moved m JOIN point_keys k ON k.id = m.point"
    " GROUP BY k.key ORDER BY k.key"
    " ON CONFLICT (point_id) DO UPDATE SET first_ts = LEAST(interval_dirty.first_ts, excluded.first_ts),"
    " last_ts = GREATEST(interval_dirty.last_ts, excluded.last_ts))"
    " SELECT count(*) FROM inserted"
)
_MADE = "bms_bridge_readings_in"  # marks, in the pooled connection's info, that STAGING exists there


async def copy_readings(conn: AsyncConnection, rows: Sequence[tuple[int, float, int, int]]) -> int:
    """Store `rows` (ts, value, point id, tag) on `conn` (autocommit); how many were new."""
    info = conn.info
    if not info.get(_MADE):
        await conn.exec_driver_sql(_CREATE)
        info[_MADE] = True
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # asyncpg.Connection
    await driver.copy_records_to_table(STAGING, records=rows, columns=_COLUMNS)
    return int(await driver.fetchval(_MOVE))
