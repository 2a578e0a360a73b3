"""The outbox table on SQLite and PostgreSQL: one row per statement version, attempts taken once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from billing_export.outbox import OutboxInput, OutboxState
from billing_export.outbox.store import OutboxStore
from tests.billing.outbox_support import BACKENDS, Backend, backend_named, statement

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with backend_named(request.param, tmp_path) as backend:
        yield backend


async def test_enqueue_is_idempotent_per_statement_version(db: Backend) -> None:
    async with db.open() as store:
        outbox = OutboxStore(store)
        assert await outbox.enqueue([statement("A"), statement("B"), statement("A", 2)], NOW) == ["A:1", "A:2", "B:1"]
        # the same versions again (a scheduled export re-run), one with another body: nothing new
        assert await outbox.enqueue([statement("A"), statement("B", total="999.00")], NOW + MINUTE) == []
        entries = await outbox.entries()
    assert [(e.key, e.state, e.attempts) for e in entries] == [
        ("A:1", OutboxState.PENDING, 0),
        ("B:1", OutboxState.PENDING, 0),
        ("A:2", OutboxState.PENDING, 0),
    ]
    assert entries[1].body == statement("B").body  # the first body stays
    assert entries[0].created_at == NOW == entries[0].next_attempt_at


async def test_an_attempt_is_taken_once_and_delivered_stays_delivered(db: Backend) -> None:
    async with db.open() as store:
        outbox = OutboxStore(store)
        await outbox.enqueue([statement("A")], NOW)
        assert await outbox.next_due() == NOW
        [entry] = await outbox.due(NOW)
        assert await outbox.begin_attempt(entry, NOW + 5 * MINUTE)
        assert not await outbox.begin_attempt(entry, NOW + 5 * MINUTE)  # a second deliverer loses
        assert await outbox.due(NOW + MINUTE) == []  # in flight: not due again until its retry time
        assert [e.key for e in await outbox.due(NOW + 5 * MINUTE)] == ["A:1"]
        assert await outbox.mark_delivered(entry.id, {"receipt_id": "R-1"}, NOW + MINUTE)
        assert not await outbox.retry_later(entry.id, NOW + 9 * MINUTE, "late")  # no way back
        assert not await outbox.mark_dead(entry.id, "late")
        stored = await outbox.entry("A:1")
        assert await outbox.next_due() is None
    assert stored is not None
    assert (stored.state, stored.attempts, stored.receipt) == (OutboxState.DELIVERED, 1, {"receipt_id": "R-1"})
    assert stored.delivered_at == NOW + MINUTE


async def test_retry_and_dead_keep_the_reason(db: Backend) -> None:
    async with db.open() as store:
        outbox = OutboxStore(store)
        await outbox.enqueue([statement("A"), statement("B")], NOW)
        a, b = await outbox.due(NOW)
        assert await outbox.retry_later(a.id, NOW + 2 * MINUTE, "HTTP 500")
        assert await outbox.mark_dead(b.id, "HTTP 422: unknown tenant")
        assert await outbox.next_due() == NOW + 2 * MINUTE
        dead = await outbox.entries(OutboxState.DEAD)
        pending = await outbox.entries(OutboxState.PENDING)
    assert [(e.key, e.last_error) for e in dead] == [("B:1", "HTTP 422: unknown tenant")]
    assert [(e.key, e.last_error, e.next_attempt_at) for e in pending] == [("A:1", "HTTP 500", NOW + 2 * MINUTE)]


async def test_bodies_come_back_byte_for_byte(db: Backend) -> None:
    body = '{"tenant":"Café Ünver","total":"12.30"}\n'.encode()
    async with db.open() as store:
        outbox = OutboxStore(store)
        await outbox.enqueue([OutboxInput("C", 1, body)], NOW)
        [entry] = await outbox.due(NOW)
    assert entry.body == body


async def test_requeue_gives_dead_entries_a_new_window(db: Backend) -> None:
    async with db.open() as store:
        outbox = OutboxStore(store)
        await outbox.enqueue([statement("A"), statement("B")], NOW)
        a, _b = await outbox.due(NOW)
        await outbox.mark_dead(a.id, "HTTP 401")
        later = NOW + 60 * MINUTE
        assert await outbox.requeue_dead(later, ["B:1"]) == []  # B is not dead
        [was] = await outbox.requeue_dead(later)
        again = await outbox.entry("A:1")
    assert (was.key, was.state, was.created_at) == ("A:1", OutboxState.DEAD, NOW)
    assert again is not None
    assert (again.state, again.created_at, again.next_attempt_at, again.last_error) == (
        OutboxState.PENDING,
        later,
        later,
        "HTTP 401",
    )
