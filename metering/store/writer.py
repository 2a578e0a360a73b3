"""The single reading writer: every poller puts readings on one bounded queue, one task commits them.

Batches are what make SQLite fast (one transaction per 1,000 rows instead of per row), and a single
writer means pollers never contend for the database lock. The queue is bounded so a slow or failing
database slows the producers down (backpressure) instead of growing memory or dropping readings.

Failures: a batch that fails is retried with exponential back-off, keeping it in memory and taking
no more than the next batch from the queue (gathered while one commits), for as long as the writer
runs; the error is logged and exposed as `last_error`. Only when closing does the writer give up:
what it could not store is kept in
`unwritten` and `__aexit__` raises `WriterError`, so the loss is never silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Final

from metering.failure_log import FailureLog
from metering.readings import Quality, Reading
from metering.store.store import Store

log = logging.getLogger(__name__)


class WriterError(RuntimeError):
    """The writer could not store everything it was given, or is not running."""


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


_STOP: Final = object()
_Item = Reading | _Flush | object


class ReadingWriter:
    """`async with ReadingWriter(store) as writer: await writer.put(reading)`."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 1000,
        flush_interval: float = 0.5,
        queue_size: int = 10_000,
        retry_initial: float = 0.1,
        retry_max: float = 5.0,
        close_attempts: int = 3,
        journal: Path | None = None,
    ) -> None:
        if max_batch < 1 or queue_size < 1 or flush_interval < 0 or close_attempts < 1:
            raise ValueError("max_batch, queue_size and close_attempts must be >= 1, flush_interval >= 0")
        self._store = store
        self._max_batch = max_batch
        self._flush_interval = flush_interval
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=queue_size)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._close_attempts = close_attempts
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._gave_up = False
        self.last_error: BaseException | None = None  # of the latest failed attempt; None after a success
        self.written = 0  # rows inserted
        self.duplicates = 0  # readings already stored for their (point_id, ts)
        self.failed_attempts = 0
        self._failures = FailureLog(log, "storing readings")
        self.unwritten: list[Reading] = []  # only filled when closing against a failing database
        # Readings still unwritten at close are appended here and stored on the next start.
        self._journal = journal

    # -- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> ReadingWriter:
        if self._task is not None:
            raise WriterError("a ReadingWriter can be started once")
        self._task = asyncio.create_task(self._run(), name="reading-writer")
        if self._journal is not None and self._journal.exists():
            kept = await asyncio.to_thread(read_journal, self._journal)
            log.info("storing %d readings kept in %s at the last stop", len(kept), self._journal)
            await self.put_many(kept)
            await self.flush()
            if not self._gave_up and self.last_error is None:
                self._journal.unlink()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = self._task
        if task is None:
            raise WriterError("the writer was never started")
        if task.done():
            await task  # it died: re-raise why, rather than hide it behind our own error
            return
        self._closing = True
        await self._queue.put(_STOP)  # after everything already queued: the queue drains first
        await task
        if self.unwritten and self._journal is not None:
            await asyncio.to_thread(append_journal, self._journal, self.unwritten)
            log.error(
                "the database refused %d readings at stop (%r); kept in %s, stored on the next start",
                len(self.unwritten),
                self.last_error,
                self._journal,
            )
            return
        if self.unwritten:
            message = f"{len(self.unwritten)} readings could not be stored: {self.last_error!r}"
            log.error("reading writer closed with %s", message)
            if exc is None:
                raise WriterError(message) from self.last_error

    def _require_running(self) -> asyncio.Task[None]:
        if self._task is None:
            raise WriterError("the writer is not started; use `async with ReadingWriter(...)`")
        if self._task.done():
            raise WriterError("the writer has stopped")
        return self._task

    # -- producers --------------------------------------------------------------------------------

    async def put(self, reading: Reading) -> None:
        """Queue one reading; waits while the queue is full."""
        task = self._task
        if task is None or task.done():
            self._require_running()
        if self._closing:
            raise WriterError("the writer is closing")
        try:  # the hot path of every poller: no coroutine of the queue's own when there is room
            self._queue.put_nowait(reading)
        except asyncio.QueueFull:
            await self._queue.put(reading)

    async def put_many(self, readings: list[Reading]) -> None:
        for reading in readings:
            await self.put(reading)

    async def flush(self) -> None:
        """Return once every reading queued before this call is committed (or, closing, given up)."""
        self._require_running()
        marker = _Flush()
        await self._queue.put(marker)
        await marker.done

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- the writer task --------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        # the batch being committed while the next one is gathered: the database's work (on its own
        # thread or server) overlaps with taking readings off the queue; commits stay one at a time,
        # in order, and a flush waiter is answered once its batch and every one before are committed
        committing: asyncio.Task[None] | None = None
        try:
            while not stopping:
                batch: list[Reading] = []
                waiters: list[_Flush] = []
                stopping = self._take(await self._queue.get(), batch, waiters)
                deadline = loop.time() + self._flush_interval
                # gather a batch: what is already queued, then whatever arrives before the deadline
                while batch and not waiters and not stopping and len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except asyncio.QueueEmpty:
                        remaining = deadline - loop.time()
                        if remaining <= 0:
                            break
                        try:
                            async with asyncio.timeout(remaining):
                                item = await self._queue.get()  # cancellation-safe: no item is lost
                        except TimeoutError:
                            break
                    stopping = self._take(item, batch, waiters)
                if committing is not None:
                    await committing
                committing = asyncio.create_task(self._commit_and_answer(batch, waiters), name="reading-commit")
            if committing is not None:
                await committing
        finally:
            if committing is not None and not committing.done():
                committing.cancel()

    async def _commit_and_answer(self, batch: list[Reading], waiters: list[_Flush]) -> None:
        if batch:
            await self._commit(batch)
        for waiter in waiters:
            if not waiter.done.done():
                waiter.done.set_result(None)

    @staticmethod
    def _take(item: _Item, batch: list[Reading], waiters: list[_Flush]) -> bool:
        """File `item` into the batch or the flush waiters; True for the stop sentinel."""
        if isinstance(item, Reading):
            batch.append(item)
        elif isinstance(item, _Flush):
            waiters.append(item)
        else:
            return item is _STOP
        return False

    async def _commit(self, batch: list[Reading]) -> None:
        if self._gave_up:
            self.unwritten.extend(batch)
            return
        delay = self._retry_initial
        attempt = 0
        while True:
            attempt += 1
            try:
                inserted = await self._store.insert_readings(batch)
            except Exception as exc:  # any database failure: keep the batch, back off, retry
                self.last_error = exc
                self.failed_attempts += 1
                self._failures.failed(exc)
                if self._closing and attempt >= self._close_attempts:
                    log.error("giving up on %d readings while closing after %d attempts: %r", len(batch), attempt, exc)
                    self._gave_up = True  # the rest of the queue is kept in memory without trying
                    self.unwritten.extend(batch)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                with contextlib.suppress(Exception):  # a database dropped and recreated has no tables
                    await self._store.ensure_schema()
                continue
            self.written += inserted
            self.duplicates += len(batch) - inserted
            self.last_error = None
            self._failures.succeeded()
            return


def append_journal(path: Path, readings: list[Reading]) -> None:
    """Append readings as JSON lines and fsync, so a stop loses none of them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as journal:
        for r in readings:
            row = {"point": r.point_id, "ts": r.ts.isoformat(), "value": r.value, "quality": r.quality.value}
            journal.write(json.dumps({**row, "source": r.source}) + "\n")
        journal.flush()
        os.fsync(journal.fileno())


def read_journal(path: Path) -> list[Reading]:
    """The journal's readings; a line torn by a crash mid-write is skipped with a warning."""
    readings = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            ts = datetime.fromisoformat(row["ts"])
            readings.append(Reading(row["point"], ts, float(row["value"]), Quality(row["quality"]), row["source"]))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("%s:%d: unreadable journal line skipped: %s", path, number, error)
    return readings
