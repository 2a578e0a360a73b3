"""The database read-only or gone for minutes: readings are buffered within the stated bound (memory,
then the journal) and every one is stored exactly once when the database is back.

"Minutes" are the readings' own clock (50 points polled every second, stamped by a clock moved one
second per poll), not time waited. The SQLite file is made read-only for real (`chattr +i` on the
database and its WAL: even root cannot write it); PostgreSQL refuses connections for real (ALLOW
CONNECTIONS false and every backend terminated), in a database of this test's own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from metering.readings import Reading
from metering.store import ReadingWriter, Store
from metering.store.journal import Journal
from metering.store.writer import StoreFailing, StoreState
from tests.support.services import POSTGRES_URL, require_postgres

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POINTS = [f"em-{i:02d}.energy" for i in range(50)]
SECOND = timedelta(seconds=1)
LOGGER = "metering.store.writer"


def poll(second: int) -> list[Reading]:
    """One poll of every point at T0 + `second`; each register counts up by the point's index."""
    ts = T0 + second * SECOND
    return [Reading(p, ts, 1000.0 + second * (i + 1) / 10, source="modbus:em") for i, p in enumerate(POINTS)]


def chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@contextmanager
def read_only(db: Path) -> Iterator[None]:
    """The SQLite database and its WAL immutable: every write fails (not the -shm, which is mapped)."""
    files = [db, db.with_name(db.name + "-wal")]
    chattr("+i", *files)
    try:
        yield
    finally:
        chattr("-i", *files)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: cannot make the SQLite file read-only for real")
    probe = tmp_path / "probe"
    probe.touch()
    try:
        chattr("+i", probe)
        chattr("-i", probe)
    except subprocess.CalledProcessError:
        pytest.skip("chattr +i is not permitted here (needs CAP_LINUX_IMMUTABLE on ext2/3/4)")
    return tmp_path / "store.db"


async def wait_for(condition: object, what: str, seconds: float = 60) -> None:
    """Wait for the writer's own work (threads, fsync), not for a clock: checked every 10 ms."""
    assert callable(condition)
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def writer_options(journal: Path) -> dict[str, object]:
    return {
        "max_batch": 100,
        "flush_interval": 0,
        "queue_size": 500,
        "retry_initial": 0.005,
        "retry_max": 0.05,
        "journal": journal,
        "buffer_readings": 2_000,
        "journal_segment_bytes": 64 * 1024,
    }


BOUND = 500 + 2_000 + 3 * 100  # queue + memory buffer + the batch being spilled and the two in flight


async def ride_out_an_outage(
    store: Store, writer: ReadingWriter, outage: object, seconds: int
) -> tuple[list[dict[str, float]], int]:
    """Poll once a second of the readings' clock through the outage; returns the health samples."""
    for second in range(10):  # before: stored as they come
        await writer.put_many(poll(second))
    await writer.flush()
    samples = []
    async with outage:  # type: ignore[attr-defined]
        for second in range(10, 10 + seconds):
            await writer.put_many(poll(second))
            await asyncio.sleep(0)  # the writer's tasks run between polls, as in the service
            samples.append(writer.health())
        await wait_for(lambda: writer.health()["writer_journal_readings"] > 0, "the journal to grow")
        samples.append(writer.health())
        with pytest.raises(StoreFailing):  # what an LPWAN uplink waits on: answered 503, not hung
            await writer.flush(unless_failing=True)
    return samples, 10 + seconds


async def assert_all_stored_once(store: Store, seconds: int) -> None:
    for i, point in enumerate(POINTS):
        stored = await store.readings(point, T0, T0 + timedelta(days=1))
        assert [r.ts for r in stored] == [T0 + s * SECOND for s in range(seconds)], point
        assert stored[-1].value == 1000.0 + (seconds - 1) * (i + 1) / 10
        assert await store.reading_count(point) == seconds


def assert_outage_logged_once_per_state(caplog: pytest.LogCaptureFixture) -> None:
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    for start in (
        "storing readings failed",
        "buffering readings until the database is back",
        "reading buffer full",
        "storing readings works again",
        "storing the buffered readings",
        "all buffered readings are stored",
    ):
        assert len([m for m in messages if m.startswith(start)]) == 1, (start, messages)


async def test_a_read_only_sqlite_file_for_five_minutes_loses_and_duplicates_nothing(
    sqlite_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "state" / "reading-journal"
    caplog.set_level(logging.INFO, logger=LOGGER)

    @asynccontextmanager
    async def outage() -> AsyncIterator[None]:
        with read_only(sqlite_db):
            yield

    async with Store.open(f"sqlite:///{sqlite_db}") as store:
        async with ReadingWriter(store, **writer_options(journal)) as writer:  # type: ignore[arg-type]
            samples, seconds = await ride_out_an_outage(store, writer, outage(), 300)  # 15,000 readings
            assert max(s["writer_buffered_readings"] for s in samples) <= BOUND
            during = samples[-1]
            assert during["writer_store_state"] == StoreState.FAILING.value
            assert during["writer_journal_readings"] >= 15_000 - BOUND
            assert during["writer_journal_bytes"] > 0 and list(journal.iterdir())
            # the database is back: everything replayed in order, then back to storing as it comes
            await asyncio.wait_for(writer.flush(), 60)
            await wait_for(lambda: writer.state is StoreState.OK, "the writer to catch up")
            assert writer.health()["writer_journal_readings"] == 0 and not list(journal.iterdir())
        assert (writer.written, writer.duplicates, writer.dropped) == (seconds * 50, 0, 0)
        await assert_all_stored_once(store, seconds)
    assert_outage_logged_once_per_state(caplog)


async def _admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_postgresql_database_gone_for_three_minutes_loses_and_duplicates_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    require_postgres()
    name = f"writer_{uuid.uuid4().hex[:10]}"
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    journal = tmp_path / "reading-journal"
    caplog.set_level(logging.INFO, logger=LOGGER)

    @asynccontextmanager
    async def outage() -> AsyncIterator[None]:
        await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            yield
        finally:
            await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    await _admin(f'CREATE DATABASE "{name}"')
    try:
        async with Store.open(url) as store:
            async with ReadingWriter(store, **writer_options(journal)) as writer:  # type: ignore[arg-type]
                samples, seconds = await ride_out_an_outage(store, writer, outage(), 180)  # 9,000 readings
                assert max(s["writer_buffered_readings"] for s in samples) <= BOUND
                assert samples[-1]["writer_store_state"] == StoreState.FAILING.value
                assert samples[-1]["writer_journal_readings"] >= 9_000 - BOUND
                await asyncio.wait_for(writer.flush(), 60)
                await wait_for(lambda: writer.state is StoreState.OK, "the writer to catch up")
            assert (writer.written, writer.duplicates) == (seconds * 50, 0)
            await assert_all_stored_once(store, seconds)
        assert_outage_logged_once_per_state(caplog)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_past_the_journal_bound_the_oldest_are_dropped_and_the_newest_kept(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day of a meter every minute against a database that refuses everything, into a journal that
    holds only part of it: the newest readings are kept, so the register still carries the day."""
    real = store.insert_readings

    async def dead(readings: list[Reading]) -> int:
        raise ConnectionError("the database is gone")

    options = {**writer_options(tmp_path / "j"), "buffer_readings": 100, "journal_segment_bytes": 4096}
    async with ReadingWriter(store, **options, journal_max_bytes=16 * 1024) as writer:  # type: ignore[arg-type]
        monkeypatch.setattr(store, "insert_readings", dead)
        day = [Reading("m", T0 + i * timedelta(minutes=1), 5000.0 + i) for i in range(1440)]
        for minute in range(0, 1440, 10):
            await writer.put_many(day[minute : minute + 10])
            await asyncio.sleep(0)
            assert writer.health()["writer_journal_bytes"] <= 16 * 1024 + 4096
        await wait_for(lambda: writer.health()["writer_buffered_readings"] <= 200, "the journal to take them")
        assert writer.dropped > 0
        monkeypatch.setattr(store, "insert_readings", real)
        await wait_for(lambda: writer.state is StoreState.OK, "the writer to catch up")
    stored = await store.readings("m", T0, T0 + timedelta(days=2))
    assert stored[-1] == day[-1]  # the last reading of the day is there: no energy lost
    assert len(stored) == 1440 - writer.dropped
    # what was dropped is one run of the oldest: only the batch the writer held through the outage
    # (the first after the last stored reading) comes before it
    index = [day.index(r) for r in stored]
    assert index == sorted(index)
    assert len([1 for a, b in itertools.pairwise(index) if b != a + 1]) == 1
    drops = [r for r in caplog.records if r.name == LOGGER and "the journal is full" in r.getMessage()]
    assert len(drops) == 1


async def test_a_torn_last_record_is_ignored_and_replay_after_a_crash_mid_replay_duplicates_nothing(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "j"
    journal = Journal(folder, max_bytes=1 << 20, segment_bytes=2048)
    journal.open()
    batches = [poll(s)[:20] for s in range(30)]
    for batch in batches:
        journal.append(batch, None)
    last = max(folder.iterdir())
    with last.open("ab") as torn:  # a crash in the middle of the next append
        torn.write(b"\x40\x00\x00\x00garbage")
    # first run: stores a few batches, then "crashes" (never closed: its segments stay)
    again = Journal(folder, max_bytes=1 << 20, segment_bytes=2048)
    assert again.open() == 600
    for _ in range(4):
        taken = again.take()
        assert taken is not None
        await store.insert_readings(taken[1])
        again.consume(taken[0])
    # the restart replays what is left; batches of a half-replayed segment are stored again, harmlessly
    async with ReadingWriter(store, journal=folder) as writer:
        pass
    assert writer.written == 600 - 80 and writer.duplicates >= 0
    for point in POINTS[:20]:
        assert await store.reading_count(point) == 30, point
    assert not list(folder.iterdir())


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from metering.readings import Reading
    from metering.store import ReadingWriter, Store

    db, journal = Path(sys.argv[1]), Path(sys.argv[2])
    T0 = datetime(2026, 3, 1, tzinfo=UTC)

    async def main():
        async with Store.open(f"sqlite:///{db}") as store:
            async with ReadingWriter(store, max_batch=100, flush_interval=0, queue_size=500, retry_initial=0.005,
                                     retry_max=0.02, journal=journal, buffer_readings=1000) as writer:
                await writer.put_many([Reading("p", T0, 0.0)])
                await writer.flush()
                print("stored", flush=True)
                sys.stdin.readline()  # the parent makes the file read-only
                for i in range(1, 5001):
                    await writer.put(Reading("p", T0 + i * timedelta(minutes=1), float(i)))
                    if i % 100 == 0:
                        await asyncio.sleep(0)
                while writer.health()["writer_journal_readings"] < 3000:
                    await asyncio.sleep(0.01)
                print("journalled", flush=True)
                await asyncio.sleep(3600)  # killed here

    asyncio.run(main())
    """
)


def kill_once_journalled(db: Path, journal: Path) -> None:
    """Run CHILD, make the file read-only once its first reading is stored, kill -9 it once it has
    journalled at least 3,000 readings."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(journal)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "stored"
        with read_only(db):
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "journalled"
            child.send_signal(signal.SIGKILL)
            child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)


async def test_killed_while_journalled_the_restart_stores_every_journalled_reading_once(
    sqlite_db: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "reading-journal"
    kill_once_journalled(sqlite_db, journal)
    kept = Journal(journal, max_bytes=1 << 30, segment_bytes=1 << 24)
    journalled = kept.open()
    expected = sorted({r.ts for e in kept.entries for r in kept.read(e)} | {T0})
    assert journalled >= 3000
    async with Store.open(f"sqlite:///{sqlite_db}") as store:
        async with ReadingWriter(store, journal=journal) as writer:
            pass
        stored = await store.readings("p", T0, T0 + timedelta(days=30))
    assert [r.ts for r in stored] == expected  # everything journalled, once; the memory part was never acknowledged
    assert all(r.value == (r.ts - T0) / timedelta(minutes=1) for r in stored)
    assert writer.written == journalled and writer.duplicates == 0


async def test_memory_stays_within_the_bound_through_a_long_outage(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Soak-like: 60,000 readings against a dead database with a 2,000-reading memory buffer. Memory
    allocated by Python after warm-up stays flat: the journal takes the rest, and keeps in memory only
    its index (about 200 bytes per journalled batch: 120 batches here). Counted: what our code and the
    test allocated; not the database drivers' own caches (SQLAlchemy's and asyncpg's are bounded LRUs
    that fill while the writer retries)."""

    def held_by_us() -> int:
        drivers = tracemalloc.Filter(False, "*/site-packages/*")
        return sum(s.size for s in tracemalloc.take_snapshot().filter_traces([drivers]).statistics("filename"))

    async def dead(readings: list[Reading]) -> int:
        raise ConnectionError("the database is gone")

    options = {**writer_options(tmp_path / "j"), "max_batch": 500, "flush_interval": 0.05}
    async with ReadingWriter(store, **options) as writer:  # type: ignore[arg-type]
        monkeypatch.setattr(store, "insert_readings", dead)
        tracemalloc.start()
        try:
            sizes = []
            for second in range(1200):
                await writer.put_many(poll(second))
                await asyncio.sleep(0)
                if second % 100 == 99:
                    sizes.append(held_by_us())
                    assert writer.health()["writer_buffered_readings"] <= 500 + 2_000 + 3 * 500
        finally:
            tracemalloc.stop()
        warm = sizes[1]
        assert max(sizes[1:]) - warm < 500_000, sizes  # flat after warm-up: under 0.5 MB of growth
        assert writer.health()["writer_journal_readings"] >= 60_000 - 3_000
        monkeypatch.undo()
