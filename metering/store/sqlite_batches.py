"""SQLite reading batches: one worker thread, one connection, and group commit.

Every batch of readings runs in one call on one thread with the stdlib driver (aiosqlite would hand
each statement to its thread and back). Batches that queue up while the thread is busy are stored in
one transaction (up to `group_rows` readings): a commit writes every B-tree page the transaction
touched to the WAL, and a batch of one poll round touches one leaf page per point, so two batches
committed together cost little more than one (docs/performance.md). Each batch still gets its own
count of rows inserted, and batches are stored in the order given: one behind a failed batch, in its
group or queued later, is not tried (`BatchSkipped`) until its caller tries it again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.engine import URL, Connection, Engine

from metering.readings import Reading
from metering.store.engine import WRITE_OPTION, create_sqlite_batch_engine
from metering.store.keys import Keys, Learned
from metering.store.sqlite_rows import sqlite_rows

GROUP_ROWS: Final = 10_000  # readings per transaction at most, however many batches are queued


class BatchSkipped(RuntimeError):
    """A batch queued behind one that failed is not tried, so batches are stored in the order given."""


@dataclass(slots=True)
class _Queued:
    readings: list[Reading]
    chain: int
    done: Future[tuple[int, Learned]] = field(default_factory=Future)


class SqliteBatches:
    """`await batches.insert(readings)` -> (rows inserted, ids learned); `close` on the way out."""

    def __init__(
        self,
        url: URL,
        insert_sql: str,
        dirty_sql: Callable[[Connection], str],
        keys: Keys,
        *,
        group_rows: int = GROUP_ROWS,
    ) -> None:
        self._url = url
        self._insert_sql = insert_sql
        self._dirty_sql_of = dirty_sql  # compiled on first use, for the connection's dialect
        self._dirty_sql: str | None = None
        self._keys = keys
        self._group_rows = group_rows
        self._queued: deque[_Queued] = deque()  # appended on the loop, taken on the thread: both atomic
        self._executor: ThreadPoolExecutor | None = None
        self._engine: Engine | None = None  # used on the thread only
        self._conn: Connection | None = None
        self._chain = 0  # batches handed over since the last failure ...
        self._broken_chain = -1  # ... and the latest chain in which one failed

    async def insert(self, readings: list[Reading]) -> tuple[int, Learned]:
        job = _Queued(readings, self._chain)
        self._queued.append(job)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-batch")
        self._executor.submit(self._run_queued)  # takes this job, or finds it taken by an earlier run
        try:
            return await asyncio.wrap_future(job.done)
        except Exception:
            self._chain = max(self._chain, self._broken_chain + 1)  # later batches start anew
            raise

    async def close(self) -> None:
        """Close the connection (on close, and when the database may be a new file); reopened on use."""
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # -- on the batch thread ----------------------------------------------------------------------

    def _run_queued(self) -> None:
        group = self._take_group()
        if not group:
            return
        try:
            results = self._store(group)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self._disconnect()  # a connection that failed mid-transaction is not trusted again
            self._broken_chain = max(job.chain for job in group)
            group[0].done.set_exception(exc)
            for job in group[1:]:
                job.done.set_exception(BatchSkipped("not stored: in one transaction with a batch that failed"))
            return
        for job, result in zip(group, results, strict=True):
            job.done.set_result(result)

    def _take_group(self) -> list[_Queued]:
        group: list[_Queued] = []
        rows = 0
        queued = self._queued
        while queued and (not group or rows + len(queued[0].readings) <= self._group_rows):
            job = queued.popleft()
            if not job.done.set_running_or_notify_cancel():
                continue
            if job.chain <= self._broken_chain:
                job.done.set_exception(BatchSkipped("not tried: a batch before it failed"))
                continue
            group.append(job)
            rows += len(job.readings)
        return group

    def _store(self, group: list[_Queued]) -> list[tuple[int, Learned]]:
        """One transaction (BEGIN IMMEDIATE): the group's ids, rows and dirty spans; each batch's own
        executemany, for its own count."""
        conn = self._connection()
        with conn.begin():
            rows, spans, learned = sqlite_rows([r for job in group for r in job.readings], self._keys, conn)
            if self._dirty_sql is None:
                self._dirty_sql = self._dirty_sql_of(conn)
            # rows as tuples on the driver's own cursor: SQLAlchemy's per-statement and per-row
            # processing would otherwise cost about as much as SQLite's own work
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                counts = []
                start = 0
                for job in group:
                    end = start + len(job.readings)
                    cursor.executemany(self._insert_sql, rows[start:end])
                    counts.append(int(cursor.rowcount))
                    start = end
                cursor.executemany(self._dirty_sql, [(p, a, b) for p, (a, b) in sorted(spans.items())])
            finally:
                cursor.close()
        return [(count, learned) for count in counts]

    def _connection(self) -> Connection:
        if self._conn is None:
            if self._engine is None:
                self._engine = create_sqlite_batch_engine(self._url)
            self._conn = self._engine.connect().execution_options(**{WRITE_OPTION: True})  # BEGIN IMMEDIATE
        return self._conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        engine, self._engine = self._engine, None
        if conn is not None:
            conn.close()
        if engine is not None:
            engine.dispose()
