from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from metering.readings import Reading
from metering.store import ReadingWriter, Store, WriterError
from metering.store.writer import append_journal, read_journal
from tests.support.waiting import until

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
END = T0 + timedelta(days=365)

Insert = Callable[[Iterable[Reading]], Awaitable[int]]


def series(count: int, point: str = "p") -> list[Reading]:
    return [Reading(point, T0 + i * MIN, float(i)) for i in range(count)]


def spy(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every batch the writer hands to the store."""
    sizes: list[int] = []
    real: Insert = store.insert_readings

    async def insert(readings: Iterable[Reading]) -> int:
        batch = list(readings)
        sizes.append(len(batch))
        return await real(batch)

    monkeypatch.setattr(store, "insert_readings", insert)
    return sizes


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_writer_batches_and_drains_on_exit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = spy(store, monkeypatch)
    rows = series(2_500)
    async with ReadingWriter(store, max_batch=1000, flush_interval=60) as writer:
        await writer.put_many(rows)
    # the long flush_interval never elapsed: exit drained everything, in full batches
    assert sum(sizes) == 2_500 and max(sizes) <= 1000 and len(sizes) == 3
    assert writer.written == 2_500
    assert await store.readings("p", T0, END) == rows


async def test_flush_waits_until_everything_queued_is_committed(store: Store) -> None:
    async with ReadingWriter(store, max_batch=100, flush_interval=60) as writer:
        await writer.put_many(series(250))
        await writer.flush()
        assert len(await store.readings("p", T0, END)) == 250
        await writer.flush()  # nothing queued: returns at once
        await writer.put(Reading("q", T0, 1.0))
        await writer.flush()
        assert await store.last_reading("q") == Reading("q", T0, 1.0)


async def test_flush_waits_for_the_second_of_two_batches_in_flight(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite takes two batches at once; once the first is stored, the second is still in flight, and a
    # flush that covers it must go on waiting (it once returned there: an LPWAN uplink answered 2xx
    # before its readings were stored)
    gate = asyncio.Event()
    real: Insert = store.insert_readings
    calls = 0

    async def insert(readings: Iterable[Reading]) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            await gate.wait()
        return await real(readings)

    monkeypatch.setattr(store, "insert_readings", insert)
    async with ReadingWriter(store, max_batch=100, flush_interval=60) as writer:
        try:
            await writer.put_many(series(200))
            flushed = asyncio.create_task(writer.flush())

            async def first_stored() -> bool:  # on the store's own thread: real time
                return calls == 2 and len(await store.readings("p", T0, END)) == 100

            await until(first_stored, "the first batch to be stored")
            await settle()
            assert not flushed.done()
        finally:
            gate.set()
        await asyncio.wait_for(flushed, 10)
        assert len(await store.readings("p", T0, END)) == 200


async def test_flush_interval_commits_a_partial_batch(store: Store) -> None:
    async with ReadingWriter(store, max_batch=1000, flush_interval=0.01) as writer:
        await writer.put(Reading("p", T0, 1.0))
        for _ in range(500):  # no flush(): the interval alone must commit it
            if await store.last_reading("p") is not None:
                break
            await asyncio.sleep(0.01)
        assert await store.last_reading("p") is not None


async def test_reading_sent_twice_is_stored_once(store: Store) -> None:
    first = Reading("p", T0, 1.0)
    async with ReadingWriter(store, max_batch=1, flush_interval=0) as writer:
        await writer.put(first)
        await writer.put(Reading("p", T0, 2.0))  # another batch, same (point_id, ts)
        await writer.put_many([Reading("q", T0, 1.0), Reading("q", T0, 1.0)])
        await writer.flush()
    assert await store.readings("p", T0, END) == [first]
    assert (writer.written, writer.duplicates) == (2, 2)


async def test_backpressure_blocks_put_without_dropping(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = asyncio.Event()
    real: Insert = store.insert_readings

    async def slow_insert(readings: Iterable[Reading]) -> int:
        await gate.wait()
        return await real(readings)

    monkeypatch.setattr(store, "insert_readings", slow_insert)
    rows = series(12)
    async with ReadingWriter(store, max_batch=1, flush_interval=0, queue_size=2) as writer:
        await writer.put(rows[0])
        await settle()  # the writer holds rows[0] and waits on the gate
        # a few batches wait behind it in memory (the writer's pace), then the queue fills
        blocked = asyncio.create_task(writer.put_many(rows[1:]))
        await settle()
        assert not blocked.done() and writer.queued == 2
        assert writer.health()["writer_buffered_readings"] <= 2 + 3 + 2  # queue, ready batches, in flight
        gate.set()
        await blocked
        await writer.flush()
    assert await store.readings("p", T0, END) == rows


async def test_failed_batch_is_retried_and_error_surfaced(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    real: Insert = store.insert_readings
    failures = 2
    seen: list[BaseException | None] = []

    async def flaky(readings: Iterable[Reading]) -> int:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("database went away")
        seen.append(writer.last_error)
        return await real(readings)

    monkeypatch.setattr(store, "insert_readings", flaky)
    async with ReadingWriter(store, retry_initial=0.001, flush_interval=0) as writer:
        await writer.put_many(series(10))
        await writer.flush()
        assert isinstance(seen[0], ConnectionError)  # visible while it was failing
        assert writer.last_error is None and writer.failed_attempts == 2
    assert len(await store.readings("p", T0, END)) == 10


async def test_closing_against_a_dead_database_keeps_and_reports_the_rest(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def dead(readings: Iterable[Reading]) -> int:
        raise ConnectionError("gone")

    rows = series(25)
    writer = ReadingWriter(store, max_batch=10, retry_initial=0.001, close_attempts=2, flush_interval=60)
    with pytest.raises(WriterError, match="25 readings could not be stored"):
        async with writer:
            monkeypatch.setattr(store, "insert_readings", dead)
            await writer.put_many(rows)
    assert writer.unwritten == rows


async def test_what_a_dead_database_refused_at_stop_is_journaled_and_stored_on_the_next_start(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    journal = tmp_path / "state" / "reading-journal"
    real = store.insert_readings

    async def dead(readings: Iterable[Reading]) -> int:
        raise ConnectionError("gone")

    rows = series(25)
    writer = ReadingWriter(
        store, max_batch=10, retry_initial=0.001, close_attempts=2, flush_interval=60, journal=journal
    )
    async with writer:
        monkeypatch.setattr(store, "insert_readings", dead)
        await writer.put_many(rows)
    assert writer.health()["writer_journal_readings"] == 25  # nothing raised: nothing is lost either
    assert list(journal.iterdir())
    monkeypatch.setattr(store, "insert_readings", real)
    async with ReadingWriter(store, journal=journal) as again:
        await again.flush()
        for _ in range(500):
            if again.health()["writer_journal_readings"] == 0:
                break
            await asyncio.sleep(0.01)
    assert await store.readings("p", T0, END) == rows
    assert not list(journal.iterdir())


async def test_the_stop_journal_of_earlier_versions_is_stored_and_removed(store: Store, tmp_path: Path) -> None:
    legacy = tmp_path / "unwritten-readings.jsonl"
    append_journal(legacy, series(3))
    async with ReadingWriter(store, journal=tmp_path / "reading-journal", legacy_journal=legacy):
        pass
    assert await store.readings("p", T0, END) == series(3)
    assert not legacy.exists()


async def test_a_torn_journal_line_is_skipped(store: Store, tmp_path: Path) -> None:
    journal = tmp_path / "unwritten-readings.jsonl"
    append_journal(journal, series(2))
    with journal.open("a") as torn:
        torn.write('{"point": "p", "ts": "2026-')
    assert read_journal(journal) == series(2)


async def test_put_outside_the_context_is_an_error(store: Store) -> None:
    writer = ReadingWriter(store)
    with pytest.raises(WriterError):
        await writer.put(Reading("p", T0, 1.0))
    async with writer:
        pass
    with pytest.raises(WriterError):
        await writer.put(Reading("p", T0, 1.0))
