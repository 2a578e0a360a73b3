"""What every kind of record in the store needs: the engine, the clock, and the plumbing to write and read.

`Store` is assembled from one mixin per kind of record (`health_records`, `event_records`,
`trend_records`, `frame_records`, `exchange_records`) on top of `StoreBase`, with readings and
intervals in `store` itself; this module holds the part they all share, so each of those files
depends only on it and not on one another. Timestamps follow `store`'s rule: UTC epoch milliseconds
in the tables, aware datetimes at the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metering.clock import Clock, utc_now
from metering.store.engine import WRITE_OPTION


class StoreConflict(ValueError):
    """A write contradicts a record already stored under the same key."""


class StoreBase:
    """The engine, clock and schema of one database, and the write, insert and fetch plumbing."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now, schema: str | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._schema = schema
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def engine(self) -> AsyncEngine:
        """For components that keep their own tables in the same database (billing, outbox)."""
        return self._engine

    # -- plumbing, also for components that keep their own tables here (billing, outbox) ----------

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, so it waits for the lock, see engine.py)."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(**{WRITE_OPTION: True})
            async with conn.begin():
                yield conn

    def insert(self, table: Table) -> Any:
        # ON CONFLICT lives on the dialect-specific insert; both dialects spell it the same way
        return sqlite.insert(table) if self._sqlite else postgresql.insert(table)

    async def fetch(self, statement: Any) -> Sequence[Row[Any]]:
        async with self._engine.connect() as conn:
            result = await conn.execute(statement)
            return result.all()
