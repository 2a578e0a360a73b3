"""The store: readings and intervals, on SQLite or PostgreSQL, and the `Store` that holds every record.

`Store` is one class to its callers; the service's other records live in their own mixins on
`base.StoreBase` (which holds the engine and the write/insert/fetch plumbing): device health in
`health_records`, events in `event_records`, BMS trends and schedules in `trend_records`, LPWAN
frames in `frame_records`, meter exchanges in `exchange_records`. This module keeps readings,
intervals, opening and migration, and the reading batches' machinery.

Timestamps: every time column is a BigInteger of UTC epoch milliseconds (see `timecodec`). Aware
datetimes in any zone are accepted at this boundary and aware UTC datetimes come back; nothing
below this module sees a datetime. Sub-millisecond digits are floored on the way in.

Hot-path writes are Core inserts executed as one executemany per batch; `ReadingWriter` is the only
caller that should write readings while the service runs (one writer, datasette style).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, case, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metering.clock import Clock, utc_now
from metering.readings import Interval, Quality, Reading
from metering.store import partitions, pg_readings, rollups
from metering.store import schema as t
from metering.store.base import StoreConflict as StoreConflict  # raised by add_exchange; imported from here
from metering.store.codes import (
    QUALITY_CODES,
    SCALE_SHIFT,
    SOURCE_SHIFT,
    USUAL_SOURCE,
    compact_many,
    quality_of,
    source_of,
    value_of,
)
from metering.store.engine import create_engine
from metering.store.event_records import EventRecords
from metering.store.exchange_records import ExchangeRecords
from metering.store.frame_records import FrameRecords
from metering.store.health_records import HealthRecords
from metering.store.keys import Keys, Learned
from metering.store.migrate import upgrade
from metering.store.sqlite_batches import GROUP_ROWS, SqliteBatches
from metering.store.sqlite_rows import DIRTY_COLUMNS, positional_sql
from metering.store.timecodec import from_ms, to_ms, to_ms_many
from metering.store.trend_records import TrendRecords
from metering.store.unavailable import explain
from metering.store.urls import is_sqlite, normalise_db_url

log = logging.getLogger(__name__)

READING_COLUMNS = ("ts", "value", "point", "tag")
_ROW = (t.readings.c.ts, t.readings.c.value, t.readings.c.tag)


class Store(HealthRecords, EventRecords, TrendRecords, FrameRecords, ExchangeRecords):
    """Async access to one database. Create with `async with Store.open(url) as store:`."""

    def __init__(
        self, engine: AsyncEngine, *, clock: Clock = utc_now, schema: str | None = None, group_rows: int = GROUP_ROWS
    ) -> None:
        super().__init__(engine, clock=clock, schema=schema)
        self._keys = Keys(self.insert)
        self._partitions = partitions.Partitions()  # PostgreSQL: the months known to have a partition
        self._dirty_stmt: Any = None  # built on first use, then reused
        self._sqlite_batches = (
            SqliteBatches(
                engine.url,
                _compiled_reading_insert(engine),
                self._compiled_dirty_upsert,
                self._keys,
                group_rows=group_rows,
            )
            if self._sqlite
            else None
        )

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str | URL,
        *,
        schema: str | None = None,
        clock: Clock = utc_now,
        group_rows: int = GROUP_ROWS,
        **engine_kwargs: Any,
    ) -> AsyncIterator[Store]:
        """Open (creating the SQLite file and its folder if needed), migrate to head, yield, dispose.

        `schema` (PostgreSQL only) puts every table in that schema, created if missing: one database
        can then hold several sites. `group_rows` (SQLite only): readings per transaction at most when
        batches queue up (sqlite_batches); a writer's batch size turns group commit off.
        `engine_kwargs` go to `create_async_engine`.
        """
        parsed = normalise_db_url(url)
        engine = create_engine(parsed, schema=schema, **engine_kwargs)
        try:
            store = cls(engine, clock=clock, schema=schema, group_rows=group_rows)
            try:
                if is_sqlite(parsed):
                    _make_parent_dir(parsed)
                await store.ensure_schema()
            except (OSError, SQLAlchemyError) as error:
                raise explain(parsed, error) from error
            try:
                yield store
            finally:
                if store._sqlite_batches is not None:
                    await store._sqlite_batches.close()
                    store._sqlite_batches.shutdown()
        finally:
            await engine.dispose()

    async def ensure_schema(self) -> None:
        """Create the schema (PostgreSQL) and migrate to the newest version; cheap when already there.

        Also the way back after a database was dropped and recreated under a running service."""
        if self._schema is not None:
            quoted = self._engine.dialect.identifier_preparer.quote_schema(self._schema)
            async with self._engine.begin() as conn:
                await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
        self._keys.clear()  # a database made anew numbers its points and sources anew
        self._partitions.clear()
        if self._sqlite_batches is not None:  # the database may be a new file
            await self._sqlite_batches.close()
        await upgrade(self._engine)
        if not self._sqlite:  # this month's partition and the next ones', made ahead of the writes
            months = partitions.months_ahead(to_ms(self._clock()))
            async with self._engine.begin() as conn:
                await conn.run_sync(partitions.create_partitions, months)
            self._partitions.adopt(months)

    # -- readings ---------------------------------------------------------------------------------

    async def insert_readings(self, readings: Iterable[Reading], *, received_at: datetime | None = None) -> int:
        """Insert new readings; one already stored for (point_id, ts) keeps its first value.

        Returns how many rows were actually inserted. `received_at` is accepted as before and not
        stored: since revision 0007 a reading row keeps no receive time (docs/storage.md).
        """
        if self._sqlite_batches is not None:
            given = readings if isinstance(readings, list) else list(readings)
            if not given:
                return 0
            # on the batch thread, committed with the batches queued beside it (sqlite_batches)
            inserted, learned = await self._sqlite_batches.insert(given)
        else:
            batch = _Batch(readings)
            if not batch.readings:
                return 0
            inserted, learned = await self._insert_pg_batch(batch)
        self._keys.commit(learned)
        return inserted

    @property
    def keeps_batch_order(self) -> bool:
        """Several `insert_readings` awaited at once are stored in the order called (SQLite: one
        thread), and none after one that fails (`BatchSkipped`): the writer may then overlap them, and
        those queued together are committed together."""
        return self._sqlite_batches is not None

    async def _insert_pg_batch(self, batch: _Batch) -> tuple[int, Learned]:
        """The months' partitions where new, the ids (each insert committed by itself), then the rows by
        COPY with their dirty spans (`pg_readings`)."""
        async with self._engine.connect() as plain:
            conn = await plain.execution_options(isolation_level="AUTOCOMMIT")
            months = self._partitions.missing(batch.ms)
            if months:  # a month this process has not written yet: its partition first
                async with self._engine.begin() as ddl:
                    await ddl.run_sync(partitions.create_partitions, months)
                self._partitions.adopt(months)
            learned = await conn.run_sync(self._keys.assign, batch.usual, batch.sources)
            self._keys.commit(learned)  # each id's insert committed by itself: safe to keep now
            rows = batch.rows(learned, scaled=False, first_only=True)
            return await pg_readings.copy_readings(conn, rows, batch.spans), learned

    def _compiled_dirty_upsert(self, conn: Connection) -> str:
        return positional_sql(self._dirty_upsert({})[0], conn.dialect, DIRTY_COLUMNS)

    async def mark_dirty_spans(self, conn: AsyncConnection, spans: Mapping[str, tuple[int, int]]) -> None:
        if spans:
            await conn.execute(*self._dirty_upsert(spans))

    def _dirty_upsert(self, spans: Mapping[str, tuple[int, int]]) -> tuple[Any, list[dict[str, Any]]]:
        """Widen each point's dirty span to cover these readings, in the readings' own transaction, so
        a crash can never store readings whose intervals nobody will recompute."""
        if self._dirty_stmt is None:
            table = t.interval_dirty
            stmt = self.insert(table)
            self._dirty_stmt = stmt.on_conflict_do_update(
                index_elements=["point_id"],
                set_={
                    "first_ts": case(
                        (stmt.excluded.first_ts < table.c.first_ts, stmt.excluded.first_ts), else_=table.c.first_ts
                    ),
                    "last_ts": case(
                        (stmt.excluded.last_ts > table.c.last_ts, stmt.excluded.last_ts), else_=table.c.last_ts
                    ),
                },
            )
        return self._dirty_stmt, [{"point_id": p, "first_ts": a, "last_ts": b} for p, (a, b) in sorted(spans.items())]

    async def _point_readings(self, point_id: str, query: Callable[[int], Select[Any]]) -> list[Reading]:
        """Run `query(point key)` for the point's rows and decode them; no rows for an unknown point."""
        async with self._engine.connect() as conn:
            point = await conn.run_sync(self._keys.point, point_id)
            if point is None:
                return []
            rows = (await conn.execute(query(point.id))).all()
            return await self._decode(conn, [(point_id, point.usual_source, row) for row in rows])

    async def _decode(self, conn: AsyncConnection, rows: list[tuple[str, int | None, Any]]) -> list[Reading]:
        names = self._keys.source_names
        if any(source_of(row.tag, usual) not in names for _, usual, row in rows):
            await conn.run_sync(self._keys.load_sources)
        return [
            Reading(
                point_id,
                from_ms(row.ts),
                value_of(row.value, row.tag),
                quality_of(row.tag),
                names[source_of(row.tag, usual)],
            )
            for point_id, usual, row in rows
        ]

    async def readings(self, point_id: str, start: datetime, end: datetime) -> list[Reading]:
        """Readings of `point_id` with start <= ts < end, oldest first."""
        c = t.readings.c
        return await self._point_readings(
            point_id,
            lambda point: select(*_ROW).where(c.point == point, c.ts >= to_ms(start), c.ts < to_ms(end)).order_by(c.ts),
        )

    async def reading_count(self, point_id: str, *, before: datetime | None = None, inclusive: bool = False) -> int:
        """How many readings `point_id` has (all, or stamped before `before`; at it too when `inclusive`)."""
        c = t.readings.c
        async with self._engine.connect() as conn:
            point = await conn.run_sync(self._keys.point, point_id)
            if point is None:
                return 0
            statement = select(func.count()).select_from(t.readings).where(c.point == point.id)
            if before is not None:
                moment = to_ms(before)
                statement = statement.where(c.ts <= moment if inclusive else c.ts < moment)
            return int((await conn.execute(statement)).scalar_one())

    async def readings_page(self, point_id: str, offset: int, limit: int) -> list[Reading]:
        """Readings `offset` .. `offset + limit - 1` of `point_id` in time order (0 is the oldest)."""
        c = t.readings.c
        return await self._point_readings(
            point_id,
            lambda point: (
                select(*_ROW).where(c.point == point).order_by(c.ts).offset(max(offset, 0)).limit(max(limit, 0))
            ),
        )

    async def readings_around(self, point_id: str, ts: datetime, *, before: int, after: int) -> list[Reading]:
        """Up to `before` readings strictly before `ts` and `after` at or after it, oldest first.

        Limit and order are in SQL: a point with years of readings costs the rows asked for.
        """
        c = t.readings.c
        moment = to_ms(ts)
        older = await self._point_readings(
            point_id,
            lambda point: select(*_ROW).where(c.point == point, c.ts < moment).order_by(c.ts.desc()).limit(before),
        )
        newer = await self._point_readings(
            point_id,
            lambda point: select(*_ROW).where(c.point == point, c.ts >= moment).order_by(c.ts).limit(after),
        )
        return list(reversed(older)) + newer

    async def reading_span(self) -> tuple[datetime, datetime] | None:
        """The first and last reading time over every point, or None for an empty store."""
        c = t.readings.c
        rows = await self.fetch(select(func.min(c.ts).label("first"), func.max(c.ts).label("last")))
        if not rows or rows[0].first is None:
            return None
        return from_ms(rows[0].first), from_ms(rows[0].last)

    async def last_reading(self, point_id: str) -> Reading | None:
        c = t.readings.c
        rows = await self._point_readings(
            point_id, lambda point: select(*_ROW).where(c.point == point).order_by(c.ts.desc()).limit(1)
        )
        return rows[0] if rows else None

    async def reading_before(self, point_id: str, ts: datetime, *, inclusive: bool = False) -> Reading | None:
        """The latest reading strictly before `ts` (at or before it with `inclusive=True`)."""
        c = t.readings.c
        moment = to_ms(ts)
        rows = await self._point_readings(
            point_id,
            lambda point: (
                select(*_ROW)
                .where(c.point == point, c.ts <= moment if inclusive else c.ts < moment)
                .order_by(c.ts.desc())
                .limit(1)
            ),
        )
        return rows[0] if rows else None

    async def readings_at(self, point_ids: Iterable[str], ts: datetime) -> dict[str, Reading]:
        """Per point, its latest reading at or before `ts` (`reading_before(..., inclusive=True)` for
        many points in one statement); points without one are left out."""
        moment = to_ms(ts)
        async with self._engine.connect() as conn:
            wanted = list(point_ids)
            found = await conn.run_sync(self._keys.points_of, wanted)
            known = {key.id: (p, key.usual_source) for p, key in zip(wanted, found, strict=True) if key is not None}
            if not known:
                return {}
            # per point one seek on the primary key (point, ts); the keys are our own integers
            keys = ", ".join(f"({int(key)})" for key in sorted(known))
            query = text(
                f"WITH wanted(point) AS (VALUES {keys}) SELECT r.point, r.ts, r.value, r.tag FROM wanted "
                "JOIN readings r ON r.point = wanted.point AND r.ts = "
                "(SELECT MAX(x.ts) FROM readings x WHERE x.point = wanted.point AND x.ts <= :moment)"
            ).bindparams(moment=moment)
            rows = (await conn.execute(query)).all()
            readings = await self._decode(conn, [(known[row.point][0], known[row.point][1], row) for row in rows])
        return {reading.point_id: reading for reading in readings}

    async def last_readings(self) -> dict[str, Reading]:
        """The latest reading of every point, e.g. to publish status values on start-up."""
        c, k = t.readings.c, t.point_keys.c
        latest = select(c.point, func.max(c.ts).label("ts")).group_by(c.point).subquery()
        query = (
            select(k.key, k.source_id, *_ROW)
            .join(latest, and_(c.point == latest.c.point, c.ts == latest.c.ts))
            .join(t.point_keys, k.id == c.point)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            readings = await self._decode(conn, [(row.key, row.source_id, row) for row in rows])
        return {reading.point_id: reading for reading in readings}

    # -- intervals --------------------------------------------------------------------------------

    async def upsert_intervals(self, intervals: Iterable[Interval]) -> int:
        """Insert or replace 15-minute intervals: a recomputation overwrites what it recomputed."""
        now = to_ms(self._clock())
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for interval in intervals:
            key = (interval.point_id, to_ms(interval.start))
            # last one wins; PostgreSQL refuses to update one row twice in a statement
            rows[key] = {
                "point_id": interval.point_id,
                "start": key[1],
                "value": interval.value,
                "quality": interval.quality.value,
                "updated_at": now,
            }
        if not rows:
            return 0
        stmt = self.insert(t.intervals)
        stmt = stmt.on_conflict_do_update(
            index_elements=["point_id", "start"],
            set_={name: stmt.excluded[name] for name in ("value", "quality", "updated_at")},
        )
        touched: dict[str, tuple[int, int]] = {}
        for point, start in rows:
            first, last = touched.get(point, (start, start))
            touched[point] = (min(first, start), max(last, start))
        async with self.write() as conn:
            await conn.execute(stmt, list(rows.values()))
            await rollups.refresh(conn, touched)  # the hours and days holding them, in this transaction
        return len(rows)

    async def intervals(self, point_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Intervals of `point_id` whose start is in [start, end), oldest first."""
        c = t.intervals.c
        rows = await self.fetch(
            select(c.point_id, c.start, c.value, c.quality)
            .where(c.point_id == point_id, c.start >= to_ms(start), c.start < to_ms(end))
            .order_by(c.start)
        )
        return [Interval(r.point_id, from_ms(r.start), r.value, Quality(r.quality)) for r in rows]


class _Batch:
    """Readings to insert, in the order given, with what the insert needs besides.

    Where two share a (point, ms), the first one wins, inside a batch as across batches: the rows go
    in the order given and ON CONFLICT DO NOTHING skips the later one (SQLite executes them one by
    one; for PostgreSQL `rows(first_only=True)` leaves the later ones out before the statement)."""

    __slots__ = ("ms", "readings", "sources", "spans", "usual")

    def __init__(self, readings: Iterable[Reading]) -> None:
        self.readings = list(readings)
        self.ms = to_ms_many(r.ts for r in self.readings)
        self.sources = {r.source for r in self.readings}
        self.usual: dict[str, str] = {}  # point -> the source of its first reading here (for a new point)
        spans: dict[str, list[int]] = {}  # point -> [first ts, last ts]: its dirty span
        for r, ts in zip(self.readings, self.ms, strict=True):
            span = spans.get(r.point_id)
            if span is None:
                spans[r.point_id] = [ts, ts]
                self.usual[r.point_id] = r.source
            elif ts < span[0]:
                span[0] = ts
            elif ts > span[1]:
                span[1] = ts
        self.spans = {point: (first, last) for point, (first, last) in spans.items()}

    def rows(self, learned: Learned, *, scaled: bool, first_only: bool) -> list[tuple[int, float, int, int]]:
        """(ts, value, point, tag) per reading, READING_COLUMNS order, with the ids `learned` holds;
        `scaled` stores values as whole numbers where exact (SQLite, see `codes.compact`)."""
        points, source_ids = learned.points, learned.sources
        given, ms = self.readings, self.ms
        if first_only:
            firsts: dict[tuple[str, int], int] = {}
            for index, (r, ts) in enumerate(zip(given, ms, strict=True)):
                firsts.setdefault((r.point_id, ts), index)
            if len(firsts) < len(given):
                given = [given[i] for i in firsts.values()]
                ms = [ms[i] for i in firsts.values()]
        if scaled:
            values, scales = compact_many([r.value for r in given])
        else:
            values, scales = [r.value for r in given], [0] * len(given)
        return [
            (
                ts,
                value,
                (point := points[r.point_id]).id,
                QUALITY_CODES[r.quality]
                | scale << SCALE_SHIFT
                | (USUAL_SOURCE if (source := source_ids[r.source]) == point.usual_source else source) << SOURCE_SHIFT,
            )
            for r, ts, value, scale in zip(given, ms, values, scales, strict=True)
        ]


def _compiled_reading_insert(engine: AsyncEngine) -> str:
    """The readings insert as SQLite SQL with `?` placeholders in READING_COLUMNS order."""
    stmt = sqlite.insert(t.readings).on_conflict_do_nothing(index_elements=["point", "ts"])
    compiled = stmt.compile(dialect=engine.dialect, column_keys=list(READING_COLUMNS))
    if tuple(compiled.positiontup or ()) != READING_COLUMNS:
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup!r} for readings insert")
    return compiled.string


def _make_parent_dir(url: URL) -> None:
    if url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
