"""Group commit on SQLite: batches queued behind a busy batch thread share one transaction, each
keeps its own count, and one that fails takes its group back but never the batches before it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from metering.readings import Reading
from metering.store import Store
from metering.store.sqlite_batches import BatchSkipped, SqliteBatches

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POISON = 666.0  # the trigger below refuses this value, the way a full disk refuses a page


def batch(point: str, count: int, *, first: int = 0) -> list[Reading]:
    return [Reading(point, T0 + timedelta(minutes=first + i), 10.0 + i, source=f"modbus:{point}") for i in range(count)]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    path = tmp_path / "s.db"
    async with Store.open(f"sqlite:///{path}") as opened:
        conn = sqlite3.connect(path)
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON readings WHEN NEW.value = {POISON} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
        )
        conn.close()
        yield opened


def batches_of(store: Store) -> SqliteBatches:
    assert store._sqlite_batches is not None
    return store._sqlite_batches


async def queued_together(store: Store, *parts: list[Reading]) -> list[int | BaseException]:
    """Insert `parts` while the batch thread is held busy, so that they queue up behind it."""
    batches = batches_of(store)
    await store.insert_readings(batch("warm-up", 1))  # the thread exists
    release = threading.Event()
    assert batches._executor is not None
    holding = batches._executor.submit(release.wait)
    tasks = [asyncio.create_task(store.insert_readings(part)) for part in parts]
    await asyncio.sleep(0)  # each task has queued its batch and waits
    assert len(batches._queued) == len(parts)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    holding.result()
    return results


async def stored(store: Store, point: str) -> list[float]:
    return [r.value for r in await store.readings(point, T0, T0 + timedelta(days=1))]


async def test_queued_batches_share_a_transaction_and_keep_their_own_counts(store: Store) -> None:
    calls: list[int] = []
    batches = batches_of(store)
    real = batches._store
    batches._store = lambda group: calls.append(len(group)) or real(group)  # type: ignore[method-assign]
    again = batch("a", 2)  # both already in the first batch: no new row
    new_point = batch("b", 4, first=3)  # a point first seen in the second batch of the group
    results = await queued_together(store, batch("a", 3), [*again, *new_point], batch("a", 2, first=3))
    assert results == [3, 4, 2]
    assert calls[-1] == 3  # one transaction for the three
    assert await stored(store, "a") == [10.0, 11.0, 12.0, 10.0, 11.0]
    assert await stored(store, "b") == [10.0, 11.0, 12.0, 13.0]
    assert (await store.last_reading("b")) == new_point[-1]  # its id and source were learned in the group


async def test_a_failed_group_stores_nothing_and_later_batches_wait_their_turn(store: Store) -> None:
    poisoned = [*batch("b", 2), Reading("b", T0 + timedelta(minutes=5), POISON, source="modbus:b")]
    first, second, third = batch("a", 3), poisoned, batch("c", 2)
    results = await queued_together(store, first, second, third)
    assert isinstance(results[0], sqlite3.IntegrityError)  # the group's first batch carries the error
    assert "refused by the test trigger" in str(results[0])
    assert isinstance(results[1], BatchSkipped)
    assert isinstance(results[2], BatchSkipped)
    assert await stored(store, "a") == [] and await stored(store, "b") == []  # rolled back together
    # the caller tries again in order: the first alone is stored, the poisoned one fails by itself
    assert await store.insert_readings(first) == 3
    with pytest.raises(sqlite3.IntegrityError):
        await store.insert_readings(second)
    assert await store.insert_readings(third) == 2
    assert await stored(store, "a") == [10.0, 11.0, 12.0]
    assert await stored(store, "c") == [10.0, 11.0]
    assert await stored(store, "b") == []


async def test_a_group_holds_at_most_group_rows_readings(store: Store) -> None:
    batches = batches_of(store)
    batches._group_rows = 5
    calls: list[int] = []
    real = batches._store
    batches._store = lambda group: calls.append(sum(len(j.readings) for j in group)) or real(group)  # type: ignore[method-assign]
    results = await queued_together(store, *(batch(f"p{i}", 2) for i in range(5)))
    assert results == [2, 2, 2, 2, 2]
    assert calls[-3:] == [4, 4, 2]  # two batches of two fit under five, a third would not
