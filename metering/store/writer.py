"""The single reading writer: every poller puts readings on one bounded queue, one task commits them.

Batches are what make SQLite fast (one transaction per 1,000 rows instead of per row), and a single
writer means pollers never contend for the database lock. While the database takes the batches, the
queue is bounded so a slow database slows the producers down (backpressure) instead of growing memory.

The queue is a plain list with a wake-up future rather than an `asyncio.Queue`: a `put` is then one
append and two comparisons, which matters at tens of thousands of readings a second (benchmarks/).

Outages (docs/operations.md): when a commit fails the writer keeps taking readings off the queue, so
pollers never wait on a dead database. Batches wait in memory up to `buffer_readings`; beyond that the
oldest are appended to the journal (`metering.store.journal`, fsync'd per batch, bounded by
`journal_max_bytes`). The batch in hand is retried with back-off; once the database takes it, the
journal is replayed in order, then memory, and the writer returns to backpressure. Each change of state
is logged once; `health()` gives the figures for /metrics.

Stopping against a failing database: after `close_attempts` the rest goes to the journal (stored on the
next start); without a journal it is kept in `unwritten` and `__aexit__` raises `WriterError`, so a
loss is never silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from types import TracebackType

from metering.failure_log import FailureLog
from metering.readings import Quality, Reading
from metering.store.journal import Dropped, Entry, Journal
from metering.store.sqlite_batches import BatchSkipped
from metering.store.store import Store

log = logging.getLogger(__name__)

DEFAULT_BUFFER_READINGS = 100_000
DEFAULT_JOURNAL_MAX_BYTES = 1024 * 1024 * 1024
DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024
PIPELINE_BATCHES = 8  # handed to an order-keeping store at once: enough for group commits while backlogged


class WriterError(RuntimeError):
    """The writer could not store everything it was given, or is not running."""


class StoreFailing(WriterError):
    """`flush(unless_failing=True)` while the database fails: buffered, not yet stored."""


class StoreState(Enum):
    OK = 0  # batches are committed as they come
    FAILING = 1  # the latest attempt failed: readings are buffered
    REPLAYING = 2  # the database is back: buffered readings are being stored


@dataclass(slots=True)
class _Batch:
    readings: list[Reading]
    seq: int | None  # readings put before this batch's first one (None: journalled by an earlier run)
    entry: Entry | None = None  # where it sits in the journal, when it came from there


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
        legacy_journal: Path | None = None,
        buffer_readings: int = DEFAULT_BUFFER_READINGS,
        journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        journal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> None:
        if max_batch < 1 or queue_size < 1 or flush_interval < 0 or close_attempts < 1 or buffer_readings < 0:
            raise ValueError(
                "max_batch, queue_size and close_attempts must be >= 1, flush_interval and buffer_readings >= 0"
            )
        self._store = store
        self._max_batch = max_batch
        self._flush_interval = flush_interval
        self._queue_size = queue_size
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._close_attempts = close_attempts
        self._buffer_readings = buffer_readings
        self._journal = (
            Journal(
                journal,
                max_bytes=journal_max_bytes,
                segment_bytes=min(journal_segment_bytes, journal_max_bytes),
            )
            if journal is not None
            else None
        )
        self._legacy_journal = legacy_journal  # the JSON-lines file of earlier versions, read once
        # the queue: readings put and not yet taken
        self._items: list[Reading] = []
        self._put_total = 0
        self._taken_total = 0
        self._want = 1  # the gatherer is woken once this many readings are queued
        self._wake: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._flush_upto = 0  # a flush waits for the readings put before this: no waiting for more
        # batches taken and not yet stored
        self._memory: deque[_Batch] = deque()
        self._memory_count = 0
        # batches handed to the store, oldest first, with their first attempt: several at once where the
        # store keeps their order (SQLite: its thread goes from one straight to the next, and commits
        # those queued together in one transaction), else one
        self._in_flight: deque[tuple[_Batch, asyncio.Future[int | Exception]]] = deque()
        self._in_flight_count = 0  # readings of batches handed to the store (memory, not journal)
        self._pipelined = bool(getattr(store, "keeps_batch_order", False))
        self._changed: asyncio.Event | None = None  # memory, state or closing changed
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._impatient: list[asyncio.Future[None]] = []  # flushes that fail once the database does
        self._state = StoreState.OK
        self._spilling = False
        self._dropped_in_outage = 0
        self._gather: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self._closing = False
        self._gathered_all = False
        self._drained = False
        self._gave_up = False  # closing against a dead database: what is left is kept, not tried
        self.last_error: BaseException | None = None  # of the latest failed attempt; None after a success
        self.written = 0  # rows inserted
        self.duplicates = 0  # readings already stored for their (point_id, ts)
        self.failed_attempts = 0
        self.dropped = 0  # readings deleted from a full journal (see journal.py)
        self._failures = FailureLog(log, "storing readings")
        self.unwritten: list[Reading] = []  # only filled when closing against a failing database, no journal

    # -- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> ReadingWriter:
        if self._task is not None:
            raise WriterError("a ReadingWriter can be started once")
        self._changed = asyncio.Event()
        if self._journal is not None:
            kept = await asyncio.to_thread(self._journal.open)
            if kept:
                self._state = StoreState.REPLAYING
                log.warning(
                    "storing %d readings kept in the journal %s (%d bytes) by an earlier run",
                    kept,
                    self._journal.folder,
                    self._journal.bytes,
                )
        self._task = asyncio.create_task(self._drain(), name="reading-writer")
        self._gather = asyncio.create_task(self._gather_batches(), name="reading-gatherer")
        self._accepting = True
        legacy = self._legacy_journal
        if legacy is not None and legacy.exists():
            kept_lines = await asyncio.to_thread(read_journal, legacy)
            log.info("storing %d readings kept in %s at the last stop", len(kept_lines), legacy)
            await self.put_many(kept_lines)
            await self.flush()
            if not self.unwritten and self.last_error is None:
                legacy.unlink()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, gather = self._task, self._gather
        if task is None or gather is None:
            raise WriterError("the writer was never started")
        self._accepting = False
        if task.done() or gather.done():
            for t in (task, gather):
                if t.done():
                    await t  # it died: re-raise why, rather than hide it behind our own error
            return
        self._closing = True
        self._wake_gatherer()
        self._signal()
        await gather
        await task
        journal = self._journal
        if journal is not None and journal.entries:
            log.error(
                "the database refused %d readings at stop (%r); kept in the journal %s, stored on the next start",
                journal.readings,
                self.last_error,
                journal.folder,
            )
            return
        if self.unwritten:
            message = f"{len(self.unwritten)} readings could not be stored: {self.last_error!r}"
            log.error("reading writer closed with %s", message)
            if exc is None:
                raise WriterError(message) from self.last_error

    def _require_running(self) -> None:
        if self._task is None:
            raise WriterError("the writer is not started; use `async with ReadingWriter(...)`")
        if self._closing:
            raise WriterError("the writer is closing")
        raise WriterError("the writer has stopped")

    # -- producers --------------------------------------------------------------------------------

    async def put(self, reading: Reading) -> None:
        """Queue one reading; waits while the queue is full."""
        if not self._accepting:  # cleared at close and when the writer's tasks end
            self._require_running()
        items = self._items
        while len(items) >= self._queue_size:
            await self._wait_room()
            items = self._items
        items.append(reading)
        self._put_total += 1
        if self._wake is not None and len(items) >= self._want:
            self._wake_gatherer()

    async def put_many(self, readings: list[Reading]) -> None:
        if not self._accepting:
            self._require_running()
        start = 0
        while start < len(readings):
            items = self._items
            room = self._queue_size - len(items)
            if room <= 0:
                await self._wait_room()
                continue
            part = readings[start : start + room]
            items.extend(part)
            self._put_total += len(part)
            start += len(part)
            if self._wake is not None and len(items) >= self._want:
                self._wake_gatherer()

    async def _wait_room(self) -> None:
        if self._room is None:
            self._room = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._room)  # shared by every waiting producer: one cancelled, not all
        if not self._accepting:
            self._require_running()

    async def flush(self, *, unless_failing: bool = False) -> None:
        """Return once every reading queued before this call is stored (or, closing, given up).

        While the database fails this waits until it is back and the readings are stored, or, with
        `unless_failing`, raises `StoreFailing` at once (the readings stay buffered): an LPWAN uplink
        is then answered 503 and redelivered. Readings dropped from a full journal raise `WriterError`."""
        if not self._accepting:
            self._require_running()
        target = self._put_total
        if self._resolved(target):
            return
        if unless_failing and self._state is StoreState.FAILING:
            raise StoreFailing(f"the database is failing ({self.last_error!r}); the readings are buffered")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, done))
        if unless_failing:
            self._impatient.append(done)
        self._flush_upto = max(self._flush_upto, target)
        self._wake_gatherer()
        await done

    @property
    def queued(self) -> int:
        return len(self._items)

    @property
    def state(self) -> StoreState:
        return self._state

    def health(self) -> dict[str, float]:
        """Gauges for /metrics: readings held in memory and in the journal, journal bytes, store state."""
        journal = self._journal
        current = self._in_flight_count
        return {
            "writer_store_state": self._state.value,  # 0 ok, 1 failing, 2 replaying
            "writer_buffered_readings": len(self._items) + self._memory_count + current,
            "writer_journal_readings": journal.readings if journal is not None else 0,
            "writer_journal_bytes": journal.bytes if journal is not None else 0,
            "writer_readings_dropped": self.dropped,
        }

    # -- gathering: queue -> batches in memory (-> journal) ---------------------------------------

    def _wake_gatherer(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _signal(self) -> None:
        assert self._changed is not None
        self._changed.set()

    async def _wait_items(self, want: int, seconds: float | None) -> None:
        self._want = want
        self._wake = asyncio.get_running_loop().create_future()
        try:
            if seconds is None:
                await self._wake
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(seconds):
                        await self._wake
        finally:
            self._wake = None

    async def _gather_batches(self) -> None:
        try:
            await self._gather_loop()
        finally:
            self._accepting = False
            self._gathered_all = True
            self._signal()

    async def _gather_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._items:
                if self._closing:
                    break
                self._answer_waiters()
                await self._wait_items(1, None)
                continue
            deadline = loop.time() + self._flush_interval
            # gather a batch: what is already queued, then whatever arrives before the deadline
            while len(self._items) < self._max_batch and self._flush_upto <= self._taken_total and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await self._wait_items(self._max_batch, remaining)
            items = self._items
            if len(items) <= self._max_batch:
                taken, self._items = items, []
            else:
                taken = items[: self._max_batch]
                del items[: self._max_batch]
            batch = _Batch(taken, self._taken_total)
            self._taken_total += len(taken)
            room, self._room = self._room, None
            if room is not None and not room.done():
                room.set_result(None)
            await self._hold(batch)

    async def _hold(self, batch: _Batch) -> None:
        """Keep the batch in memory for the committer; wait (backpressure) or spill as the state asks."""
        self._memory.append(batch)
        self._memory_count += len(batch.readings)
        self._signal()
        assert self._changed is not None
        while self._memory:
            if self._state is StoreState.OK and not (self._journal is not None and self._journal.entries):
                if len(self._memory) <= (2 if self._pipelined else 1):  # ready behind those committing
                    return
            elif self._memory_count <= self._buffer_readings:
                return
            elif self._journal is not None:
                await self._spill_oldest()
                continue
            # no journal: memory full, wait for the database (backpressure, as before)
            self._changed.clear()
            await self._changed.wait()

    async def _spill_oldest(self) -> None:
        journal = self._journal
        assert journal is not None
        batch = self._memory.popleft()
        self._memory_count -= len(batch.readings)
        if not self._spilling:
            self._spilling = True
            log.warning(
                "reading buffer full (%d readings in memory): spilling batches to the journal %s (up to %d bytes)",
                self._buffer_readings,
                journal.folder,
                journal.max_bytes,
            )
        try:
            dropped = await asyncio.to_thread(journal.append, batch.readings, batch.seq)
        except OSError as error:  # a full or failing local disk: keep the batch in memory instead
            self._memory.appendleft(batch)
            self._memory_count += len(batch.readings)
            log.error("the journal %s cannot be written (%s); readings stay in memory", journal.folder, error)
            assert self._changed is not None
            self._changed.clear()
            await self._changed.wait()
            return
        for gone in dropped:
            self._note_dropped(gone)
        self._signal()

    def _note_dropped(self, gone: Dropped) -> None:
        self.dropped += gone.readings
        if self._dropped_in_outage == 0:
            log.error(
                "the journal is full (%d bytes): dropped its oldest %d readings (%s .. %s) to keep the newest;"
                " registers recover their consumption from the newest (logged once per outage)",
                self._journal.max_bytes if self._journal is not None else 0,
                gone.readings,
                gone.first.isoformat() if gone.first else "?",
                gone.last.isoformat() if gone.last else "?",
            )
        self._dropped_in_outage += gone.readings
        if gone.seqs:
            lost = min(gone.seqs)
            for target, done in self._waiters:
                if target > lost and not done.done():
                    done.set_exception(
                        WriterError("readings were dropped from the full journal before they were stored")
                    )
            self._waiters = [(t, d) for t, d in self._waiters if not d.done()]

    # -- committing: memory / journal -> store ----------------------------------------------------

    def _next(self) -> _Batch | None:
        journal = self._journal
        if journal is not None and journal.entries and not self._gave_up:
            return _Batch([], journal.entries[0].seq, journal.entries[0])
        if self._memory:
            return self._take_memory()
        return None

    def _take_memory(self) -> _Batch:
        batch = self._memory.popleft()
        self._memory_count -= len(batch.readings)
        self._signal()  # room in memory for the gatherer
        return batch

    async def _drain(self) -> None:
        assert self._changed is not None
        in_flight = self._in_flight
        try:
            while True:
                while len(in_flight) < (PIPELINE_BATCHES if self._pipelined else 1):
                    if in_flight and (self._state is not StoreState.OK or not self._memory):
                        break  # only fresh batches overlap, and only while the database keeps up
                    batch = self._next()
                    if batch is None:
                        break
                    if self._gave_up:
                        await self._keep([batch])
                        continue
                    if batch.entry is not None:
                        assert self._journal is not None
                        taken = await asyncio.to_thread(self._journal.take)
                        if taken is None:
                            continue
                        batch.entry, batch.readings = taken
                        batch.seq = batch.entry.seq
                    in_flight.append((batch, asyncio.ensure_future(self._attempt(batch))))
                    self._in_flight_count += len(batch.readings) if batch.entry is None else 0
                if not in_flight:
                    if self._gathered_all:
                        break
                    self._changed.clear()
                    await self._changed.wait()
                    continue
                held, first_try = in_flight[0]
                stored = await self._commit(held, await first_try)
                in_flight.popleft()
                self._in_flight_count -= len(held.readings) if held.entry is None else 0
                if not stored:
                    self._gave_up = True
                    rest = [held]
                    for later, attempt in in_flight:  # skipped by the store behind the failed one
                        result = await attempt
                        if isinstance(result, Exception):
                            rest.append(later)
                        else:
                            self._counted(later, result)
                    in_flight.clear()
                    self._in_flight_count = 0
                    await self._keep([*rest, *self._memory])
                    self._memory.clear()
                    self._memory_count = 0
                    continue
                if held.entry is not None:
                    assert self._journal is not None
                    await asyncio.to_thread(self._journal.consume, held.entry)
                self._after_commit()
        finally:
            for _, attempt in in_flight:
                attempt.cancel()
            self._accepting = False
            in_flight.clear()
            self._drained = True
            self._answer_waiters()
            self._signal()

    def _after_commit(self) -> None:
        journal = self._journal
        backlog = bool(self._memory) or (journal is not None and bool(journal.entries))
        if self._state is StoreState.FAILING:
            self._state = StoreState.REPLAYING if backlog else StoreState.OK
            if backlog:
                log.warning(
                    "storing the buffered readings: %d in memory, %d in the journal (%d bytes)",
                    self._memory_count,
                    journal.readings if journal is not None else 0,
                    journal.bytes if journal is not None else 0,
                )
        if self._state is StoreState.REPLAYING and not backlog:
            self._state = StoreState.OK
            if journal is not None:
                journal.clear_written()
            log.warning(
                "all buffered readings are stored%s; back to storing as they come",
                f" ({self._dropped_in_outage} dropped from the full journal)" if self._dropped_in_outage else "",
            )
            self._spilling = False
            self._dropped_in_outage = 0
            self._signal()
        self._answer_waiters()

    def _resolved(self, target: int) -> bool:
        """Every reading put before `target` is stored (or given up)."""
        if self._taken_total < target:
            return False
        # every batch handed to the store and not yet stored: the second of two in flight too
        pending = [batch.seq for batch, _ in self._in_flight]
        if self._memory:
            pending.append(self._memory[0].seq)
        if self._journal is not None:
            pending.append(self._journal.first_seq())
        return all(seq is None or seq >= target for seq in pending)

    def _answer_waiters(self) -> None:
        self._impatient = [f for f in self._impatient if not f.done()]
        if not self._waiters:
            return
        finished = self._drained
        keep = []
        for target, done in self._waiters:
            if done.done():
                continue
            if finished or self._resolved(target):
                done.set_result(None)
            else:
                keep.append((target, done))
        self._waiters = keep

    async def _attempt(self, batch: _Batch) -> int | Exception:
        """One try: rows inserted, or why not."""
        try:
            return await self._store.insert_readings(batch.readings)
        except Exception as exc:  # any database failure: the caller keeps the batch and retries
            return exc

    async def _commit(self, batch: _Batch, first: int | Exception | None = None) -> bool:
        """Store the batch (`first`: the outcome of a try already made), retrying with back-off while
        the writer runs; False: gave up at close."""
        assert self._changed is not None
        delay = self._retry_initial
        attempts_closing = 0
        while True:
            result = first if first is not None else await self._attempt(batch)
            first = None
            if isinstance(result, BatchSkipped):  # behind a batch that failed and is now stored: try it
                result = await self._attempt(batch)
            if isinstance(result, Exception):
                exc = result
                self.last_error = exc
                self.failed_attempts += 1
                self._failures.failed(exc)
                if self._state is not StoreState.FAILING:
                    self._state = StoreState.FAILING
                    log.error(
                        "buffering readings until the database is back: up to %d in memory%s",
                        self._buffer_readings,
                        f", then in the journal {self._journal.folder}" if self._journal is not None else "",
                    )
                    self._signal()  # the gatherer stops waiting for the database
                    for waiting in self._impatient:
                        if not waiting.done():
                            waiting.set_exception(StoreFailing(f"the database is failing ({exc!r})"))
                    self._impatient.clear()
                if self._closing:
                    attempts_closing += 1
                    if attempts_closing >= self._close_attempts:
                        log.error(
                            "giving up on the database while closing after %d attempts: %r", attempts_closing, exc
                        )
                        return False
                await self._back_off(delay)
                delay = min(delay * 2, self._retry_max)
                with contextlib.suppress(Exception):  # a database dropped and recreated has no tables
                    await self._store.ensure_schema()
                continue
            self._counted(batch, result)
            self.last_error = None
            self._failures.succeeded()
            return True

    def _counted(self, batch: _Batch, inserted: int) -> None:
        self.written += inserted
        self.duplicates += len(batch.readings) - inserted

    async def _back_off(self, delay: float) -> None:
        """Sleep `delay`; the start of closing cuts it short (the close attempts follow at once)."""
        assert self._changed is not None
        if self._closing:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                while not self._closing:
                    self._changed.clear()
                    await self._changed.wait()

    async def _keep(self, rest: list[_Batch]) -> None:
        """Closing against a dead database: keep what is not stored in the journal, or `unwritten`."""
        journal = self._journal
        if journal is None:
            self.unwritten.extend(r for b in rest if b.entry is None for r in b.readings)
            return
        for batch in rest:
            if batch.entry is None and batch.readings:  # journalled batches are already there
                try:
                    await asyncio.to_thread(journal.append, batch.readings, None)
                except OSError as error:
                    log.error("the journal %s cannot be written at stop (%s)", journal.folder, error)
                    self.unwritten.extend(batch.readings)


def append_journal(path: Path, readings: list[Reading]) -> None:
    """Append readings as JSON lines and fsync (the stop journal of earlier versions; tests use it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as journal:
        for r in readings:
            row = {"point": r.point_id, "ts": r.ts.isoformat(), "value": r.value, "quality": r.quality.value}
            journal.write(json.dumps({**row, "source": r.source}) + "\n")
        journal.flush()
        os.fsync(journal.fileno())


def read_journal(path: Path) -> list[Reading]:
    """The legacy journal's readings; a line torn by a crash mid-write is skipped with a warning."""
    readings = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            ts = datetime.fromisoformat(row["ts"])
            readings.append(Reading(row["point"], ts, float(row["value"]), Quality(row["quality"]), row["source"]))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("%s:%d: unreadable journal line skipped: %s", path, number, error)
    return readings
