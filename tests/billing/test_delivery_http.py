"""Delivery to a real billing system in another process that is down, slow, answers 500 and 429, then
accepts: every statement version is booked exactly once and its receipt is stored."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from billing_export.outbox import OutboxState, RetryPolicy
from billing_export.outbox.selection import ExportCandidate, select_for_delivery
from billing_export.outbox.store import OutboxStore
from billing_export.statement import StatementState
from bms_bridge.billing.delivery import BillingDelivery, DeliveryConfig
from metering.store import Store
from tests.billing.exports_support import closed_case
from tests.billing.outbox_support import (
    BACKENDS,
    REPO,
    SECRET,
    SECRET_ENV,
    Backend,
    FakeClock,
    ReceiverProcess,
    backend_named,
    statement,
)

pytestmark = pytest.mark.slow

T0 = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 06:00 in Berlin on the 1st, when exports run
SECONDS = timedelta(seconds=1)
# no jitter (draw 0 picks the longest wait) so every retry time is a number to check by hand
POLICY = RetryPolicy(initial=30 * SECONDS, cap=timedelta(hours=1), jitter=0.2, dead_after=timedelta(days=3))
TIMEOUT = timedelta(seconds=0.3)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with backend_named(request.param, tmp_path) as backend:
        yield backend


def delivery(store: Store, url: str, clock: FakeClock, *, secret: str = SECRET) -> BillingDelivery:
    config = DeliveryConfig(url, secret.encode(), TIMEOUT, POLICY)
    return BillingDelivery(config, OutboxStore(store), store.add_event, clock=clock, draw=lambda: 0.0, background=False)


async def rounds_until_settled(sender: BillingDelivery, clock: FakeClock, limit: int = 200) -> int:
    """Move the clock to each next due time and deliver, until nothing is pending; returns the rounds."""
    for count in range(limit):
        due = await sender.outbox.next_due()
        if due is None:
            return count
        clock.move_to(max(due, clock.now))
        await sender.deliver_due()
    raise AssertionError("outbox did not settle")


async def test_down_slow_500_429_then_every_statement_booked_once(db: Backend, receiver: ReceiverProcess) -> None:
    clock = FakeClock(T0)
    items = [statement("ACME-2026-11"), statement("DATACORP-2026-11"), statement("CAFE-2026-11")]
    async with db.open() as store, delivery(store, receiver.url, clock) as sender:
        await sender.outbox.enqueue(items, clock.now)

        # the receiver is down: connection refused, retried after 30 s, then 60 s (draw 0: the longest)
        assert await sender.deliver_due() == 0
        after_first = await sender.outbox.entries()
        assert {e.next_attempt_at for e in after_first} == {T0 + 30 * SECONDS}
        assert all("Connect" in (e.last_error or "") for e in after_first)
        clock.move_to(T0 + 30 * SECONDS)
        assert await sender.deliver_due() == 0
        assert {e.next_attempt_at for e in await sender.outbox.entries()} == {T0 + 90 * SECONDS}

        # back up, but slow for the first request (booked after our 0.3 s timeout), 500, then 429
        receiver.start()
        await receiver.script({"delay": 0.8}, {"status": 500}, {"status": 429, "retry_after": "600"})
        clock.move_to(T0 + 90 * SECONDS)
        assert await sender.deliver_due() == 0
        await receiver.wait_accepted(1)  # the slow one is booked although we gave up waiting
        by_key = {e.key: e for e in await sender.outbox.entries()}
        assert by_key["ACME-2026-11:1"].last_error == "no answer within 0.3 s"
        assert by_key["DATACORP-2026-11:1"].last_error == "HTTP 500"
        assert by_key["CAFE-2026-11:1"].last_error == "HTTP 429"
        # third failure: back-off 120 s; the 429 asked for 600 s and gets it
        assert by_key["DATACORP-2026-11:1"].next_attempt_at == clock.now + 120 * SECONDS
        assert by_key["CAFE-2026-11:1"].next_attempt_at == clock.now + 600 * SECONDS

        assert await rounds_until_settled(sender, clock) == 2
        entries = await sender.outbox.entries()

    accepted = {a["key"]: a for a in await receiver.accepted()}
    requests = await receiver.requests()
    assert receiver.booked_keys() == ["ACME-2026-11:1", "DATACORP-2026-11:1", "CAFE-2026-11:1"]  # once each
    assert all(r["signature_ok"] for r in requests)
    assert [(r["key"], r["status"]) for r in requests] == [
        ("ACME-2026-11:1", 201),  # answered after our timeout
        ("DATACORP-2026-11:1", 500),
        ("CAFE-2026-11:1", 429),
        ("ACME-2026-11:1", 409),  # the retry: already booked, taken as delivered
        ("DATACORP-2026-11:1", 201),
        ("CAFE-2026-11:1", 201),
    ]
    assert [e.state for e in entries] == [OutboxState.DELIVERED] * 3
    for entry, item in zip(entries, items, strict=True):
        assert accepted[entry.key]["body"].encode() == item.body  # byte for byte what was queued
        assert entry.receipt == accepted[entry.key]["receipt"]  # the receiver's own receipt, also after 409
    assert [e.receipt["receipt_id"] for e in entries if e.receipt] == ["R-0001", "R-0002", "R-0003"]
    assert [e.attempts for e in entries] == [4, 4, 4]


async def test_a_receiver_down_for_hours_after_booking_answers_the_retry_with_409(
    db: Backend, receiver: ReceiverProcess
) -> None:
    receiver.start()
    await receiver.script({"delay": 0.8})  # booked, but after our 0.3 s timeout
    clock = FakeClock(T0)
    async with db.open() as store, delivery(store, receiver.url, clock) as sender:
        await sender.outbox.enqueue([statement("ACME-2026-11")], clock.now)
        await sender.deliver_due()
        await receiver.wait_accepted(1)
        receiver.stop()  # down for five hours; it keeps its bookings on disk
        while clock.now < T0 + timedelta(hours=5):
            due = await sender.outbox.next_due()
            assert due is not None
            clock.move_to(due)
            await sender.deliver_due()
        [entry] = await sender.outbox.entries()
        assert entry.state is OutboxState.PENDING and "Connect" in (entry.last_error or "")
        receiver.start()
        await rounds_until_settled(sender, clock)
        [entry] = await sender.outbox.entries()
    # 1 slow + 11 refused (30 s doubling to the 1 h cap, then hourly, past 5 h) + 1 answered with 409
    assert (entry.state, entry.attempts) == (OutboxState.DELIVERED, 13)
    assert entry.receipt == {"receipt_id": "R-0001", "idempotency_key": "ACME-2026-11:1"}
    assert [(r["key"], r["status"]) for r in await receiver.requests()] == [("ACME-2026-11:1", 409)]
    assert receiver.booked_keys() == ["ACME-2026-11:1"]


async def test_refusals_are_dead_at_once_with_the_reason_and_an_event(db: Backend, receiver: ReceiverProcess) -> None:
    receiver.start()
    await receiver.script({"status": 422, "text": "unknown tenant ACME"})
    clock = FakeClock(T0)
    async with db.open() as store:
        async with delivery(store, receiver.url, clock) as sender:
            await sender.outbox.enqueue([statement("ACME-2026-11")], clock.now)
            await sender.deliver_due()
        # a wrong key: the receiver says 401, which no retry can cure
        async with delivery(store, receiver.url, clock, secret="not-the-key") as wrong:
            await wrong.outbox.enqueue([statement("CAFE-2026-11")], clock.now)
            await wrong.deliver_due()
            entries = await wrong.outbox.entries()
        events = await store.events(kind="export-dead-letter")
    assert [(e.key, e.state, e.attempts, e.last_error) for e in entries] == [
        ("ACME-2026-11:1", OutboxState.DEAD, 1, "HTTP 422: unknown tenant ACME"),
        ("CAFE-2026-11:1", OutboxState.DEAD, 1, 'HTTP 401: {"error": "bad signature"}'),
    ]
    assert [(e.subject, e.severity, e.dedup_key) for e in events] == [
        ("ACME-2026-11", "alarm", "export-dead-letter:ACME-2026-11:1:2026-12-01T05:00:00+00:00"),
        ("CAFE-2026-11", "alarm", "export-dead-letter:CAFE-2026-11:1:2026-12-01T05:00:00+00:00"),
    ]
    assert receiver.booked_keys() == []


async def test_dead_letter_when_the_window_closes(db: Backend, receiver: ReceiverProcess) -> None:
    # the receiver never comes up: after 3 days of retries (capped at 1 h apart) the statement is dead
    clock = FakeClock(T0)
    async with db.open() as store, delivery(store, receiver.url, clock) as sender:
        await sender.outbox.enqueue([statement("ACME-2026-11")], clock.now)
        rounds = await rounds_until_settled(sender, clock)
        [entry] = await sender.outbox.entries()
        await sender.deliver_due()  # nothing due any more: no second event
        events = await store.events(kind="export-dead-letter")
    # 30+60+...+1920 s is 63.5 min over 7 attempts, then one an hour until T0 + 72 h
    assert clock.now == T0 + timedelta(days=3)
    assert entry.state is OutboxState.DEAD
    assert entry.last_error is not None and entry.last_error.startswith("undelivered after 3 days (last: ")
    assert entry.attempts == rounds - 1 == 7 + 71
    [event] = events
    assert event.started_at == T0 + timedelta(days=3)
    assert event.details["attempts"] == entry.attempts


async def test_a_deliverer_killed_mid_request_loses_and_duplicates_nothing(
    db: Backend, receiver: ReceiverProcess
) -> None:
    receiver.start()
    # the first is booked and answered; the second is booked, but the answer never comes in time
    await receiver.script({}, {"accept_then_delay": 60})
    items = [statement("ACME-2026-11"), statement("DATACORP-2026-11"), statement("CAFE-2026-11")]
    async with db.open() as store:
        await OutboxStore(store).enqueue(items, T0)
    command = ["-m", "tests.support.billing_deliverer", "--db", db.url, "--url", receiver.url]
    command += ["--secret-env", SECRET_ENV, "--now", T0.isoformat()]
    if "schema" in db.options:
        command += ["--schema", db.options["schema"]]
    env = {**os.environ, SECRET_ENV: SECRET}
    process = await asyncio.create_subprocess_exec(sys.executable, *command, cwd=REPO, env=env)
    try:
        await receiver.wait_accepted(2, within=20)
        await asyncio.sleep(0.05)  # the deliverer is now waiting for the second answer
    finally:
        process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(process.wait(), 10) == -signal.SIGKILL

    clock = FakeClock(T0)
    async with db.open() as store, delivery(store, receiver.url, clock) as sender:
        state = [(e.key, e.state, e.attempts) for e in await sender.outbox.entries()]
        assert state == [
            ("ACME-2026-11:1", OutboxState.DELIVERED, 1),
            ("DATACORP-2026-11:1", OutboxState.PENDING, 1),  # in flight when killed
            ("CAFE-2026-11:1", OutboxState.PENDING, 0),
        ]
        # the one in flight waits out timeout + back-off (60 s + 30 s) before it is tried again
        assert await sender.outbox.next_due() == T0
        await sender.deliver_due()
        assert [e.state for e in await sender.outbox.entries()][2] is OutboxState.DELIVERED
        assert await sender.outbox.next_due() == T0 + 90 * SECONDS
        await rounds_until_settled(sender, clock)
        entries = await sender.outbox.entries()
    assert receiver.booked_keys() == ["ACME-2026-11:1", "DATACORP-2026-11:1", "CAFE-2026-11:1"]
    accepted = {a["key"]: a["receipt"] for a in await receiver.accepted()}
    assert [e.receipt for e in entries] == [accepted[e.key] for e in entries]
    assert [e.receipt["receipt_id"] for e in entries if e.receipt] == ["R-0001", "R-0002", "R-0003"]
    statuses = [(r["key"], r["status"]) for r in await receiver.requests()]
    assert statuses == [
        ("ACME-2026-11:1", 201),
        ("DATACORP-2026-11:1", 201),  # booked, answer lost with the killed process
        ("CAFE-2026-11:1", 201),
        ("DATACORP-2026-11:1", 409),  # the retry after restart: already booked
    ]


async def test_a_dropped_connection_and_503_with_a_date_are_retried(db: Backend, receiver: ReceiverProcess) -> None:
    receiver.start()
    clock = FakeClock(T0)
    # Retry-After as an HTTP date (RFC 9110 §10.2.3): 10 minutes after T0
    await receiver.script({"drop": True}, {"status": 503, "retry_after": "Tue, 01 Dec 2026 05:10:00 GMT"})
    async with db.open() as store, delivery(store, receiver.url, clock) as sender:
        await sender.outbox.enqueue([statement("ACME-2026-11")], clock.now)
        await sender.deliver_due()
        [entry] = await sender.outbox.entries()
        assert entry.last_error is not None and "Disconnected" in entry.last_error
        assert entry.next_attempt_at == T0 + 30 * SECONDS
        clock.move_to(entry.next_attempt_at)
        await sender.deliver_due()
        [entry] = await sender.outbox.entries()
        assert (entry.last_error, entry.next_attempt_at) == ("HTTP 503", datetime(2026, 12, 1, 5, 10, tzinfo=UTC))
        await rounds_until_settled(sender, clock)
        [entry] = await sender.outbox.entries()
    assert (entry.state, entry.attempts) == (OutboxState.DELIVERED, 3)
    assert receiver.booked_keys() == ["ACME-2026-11:1"]


async def test_background_task_delivers_what_is_queued_when_woken(tmp_path: Path) -> None:
    # the real clock here, and a receiver that refuses timestamps more than 5 minutes off its own
    receiver = ReceiverProcess(tmp_path, tolerance=300)
    receiver.start()
    try:
        async with Store.open(f"sqlite:///{tmp_path / 'bg.db'}") as store:
            config = DeliveryConfig(receiver.url, SECRET.encode(), timedelta(seconds=5), POLICY)
            async with BillingDelivery(config, OutboxStore(store), store.add_event) as sender:
                await sender.outbox.enqueue([statement("ACME-2026-11")], datetime.now(UTC))
                sender.wake()
                await receiver.wait_accepted(1)
                for _ in range(100):
                    entry = await sender.outbox.entry("ACME-2026-11:1")
                    if entry is not None and entry.state is OutboxState.DELIVERED:
                        break
                    await asyncio.sleep(0.02)
            # signed with a timestamp a day old: a replay, refused although the signature matches
            stale = FakeClock(datetime.now(UTC) - timedelta(days=1))
            async with delivery(store, receiver.url, stale) as old:
                await old.outbox.enqueue([statement("CAFE-2026-11")], stale.now)
                await old.deliver_due()
                replayed = await old.outbox.entry("CAFE-2026-11:1")
    finally:
        receiver.stop()
    assert replayed is not None
    assert (replayed.state, replayed.last_error) == (OutboxState.DEAD, 'HTTP 401: {"error": "bad signature"}')
    assert receiver.booked_keys() == ["ACME-2026-11:1"]
    assert entry is not None and entry.state is OutboxState.DELIVERED
    assert entry.receipt == {"receipt_id": "R-0001", "idempotency_key": "ACME-2026-11:1"}
    assert json.loads(statement("ACME-2026-11").body)["total"] == "100.00"


async def test_closed_statements_arrive_as_their_canonical_json(tmp_path: Path, receiver: ReceiverProcess) -> None:
    # a golden case closed over real intervals: what the billing system books is the statement document
    receiver.start()
    clock = FakeClock(T0)
    async with closed_case("billing_rounding", tmp_path) as case:
        statements = case.result.statements
        candidates = [ExportCandidate.of(s, 1, StatementState.APPROVED) for s in statements]
        selection = select_for_delivery(candidates, auto_approve=False)
        async with delivery(case.store, receiver.url, clock) as sender:
            await sender.outbox.enqueue(selection.deliver, clock.now)
            assert await sender.deliver_due() == len(statements) > 0
    booked = {a["key"]: json.loads(a["body"]) for a in await receiver.accepted()}
    for closed in statements:
        document = booked[f"{closed.id}:1"]
        assert (document["schema"], document["statement_id"], document["version"]) == (
            "bms-bridge/statement/v1",
            closed.id,
            1,
        )
        assert document["totals"]["gross"] == str(closed.gross)  # exact text, never a float
