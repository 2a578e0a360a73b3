"""The outbox table over the service's database (SQLite or PostgreSQL), through `Store.engine`.

Every change of a row is conditional on the state the caller read (pending, and for a new attempt
the attempt count too), so two deliverers, or a deliverer and a restart of itself, can never both
take the same attempt, and a delivered row never goes back to pending.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from billing_export.outbox.model import OutboxEntry, OutboxInput, OutboxState
from metering.store import Store
from metering.store import schema as t
from metering.store.timecodec import from_ms, opt_from_ms, to_ms

log = logging.getLogger(__name__)

_c = t.export_outbox.c


class OutboxStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._engine = store.engine
        self._sqlite = self._engine.dialect.name == "sqlite"

    async def enqueue(self, items: Iterable[OutboxInput], now: datetime) -> list[str]:
        """Queue statement versions for delivery; returns the keys that were new.

        A key already queued keeps its first body: a statement version is immutable, and what the
        receiver may already hold under that key is what we keep (a different body is logged).
        """
        rows: dict[str, dict[str, Any]] = {}
        for item in items:
            rows.setdefault(
                item.key,
                {
                    "statement_id": item.statement_id,
                    "statement_version": item.version,
                    "idempotency_key": item.key,
                    "body": item.body,
                    "state": OutboxState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": to_ms(now),
                    "created_at": to_ms(now),
                },
            )
        if not rows:
            return []
        insert = (sqlite.insert if self._sqlite else postgresql.insert)(t.export_outbox)
        stmt = insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(_c.idempotency_key)
        async with self._store.write() as conn:
            added = {row.idempotency_key for row in (await conn.execute(stmt, list(rows.values()))).all()}
            known = set(rows) - added
            if known:
                stored = await conn.execute(
                    select(_c.idempotency_key, _c.body).where(_c.idempotency_key.in_(sorted(known)))
                )
                for row in stored:
                    if bytes(row.body) != rows[row.idempotency_key]["body"]:
                        log.warning(
                            "statement %s is already queued with another body; keeping the first", row.idempotency_key
                        )
        return sorted(added)

    async def due(self, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        """Pending entries whose next attempt is due, oldest due first."""
        query = (
            select(t.export_outbox)
            .where(_c.state == OutboxState.PENDING.value, _c.next_attempt_at <= to_ms(now))
            .order_by(_c.next_attempt_at, _c.id)
            .limit(limit)
        )
        return [_entry(row) for row in await self._store.fetch(query)]

    async def next_due(self) -> datetime | None:
        """When the earliest pending entry is due, or None when nothing is pending."""
        rows = await self._store.fetch(
            select(func.min(_c.next_attempt_at).label("at")).where(_c.state == OutboxState.PENDING.value)
        )
        return from_ms(rows[0].at) if rows and rows[0].at is not None else None

    async def begin_attempt(self, entry: OutboxEntry, retry_at: datetime) -> bool:
        """Take the next attempt of `entry`: count it and move its due time to `retry_at` before sending,
        committed, so a crash during the request leaves it pending for a later retry (the receiver
        dedups by key). False when someone else took this attempt or the entry is no longer pending."""
        return await self._change(
            entry.id,
            {"attempts": entry.attempts + 1, "next_attempt_at": to_ms(retry_at)},
            attempts=entry.attempts,
        )

    async def mark_delivered(self, entry_id: int, receipt: dict[str, Any], now: datetime) -> bool:
        return await self._change(
            entry_id,
            {
                "state": OutboxState.DELIVERED.value,
                "receipt": json.dumps(receipt, sort_keys=True),
                "delivered_at": to_ms(now),
                "last_error": None,
            },
        )

    async def retry_later(self, entry_id: int, retry_at: datetime, error: str) -> bool:
        return await self._change(entry_id, {"next_attempt_at": to_ms(retry_at), "last_error": error})

    async def mark_dead(self, entry_id: int, error: str) -> bool:
        return await self._change(entry_id, {"state": OutboxState.DEAD.value, "last_error": error})

    async def requeue_dead(self, now: datetime, keys: Iterable[str] | None = None) -> list[OutboxEntry]:
        """Give dead entries (all, or those of `keys`) a new delivery window from `now`, once the cause is
        fixed (a key mismatch, a tenant unknown to the billing system). Same key and body: a receiver
        that did book one answers 409. Returns the entries as they were when dead."""
        query = select(t.export_outbox).where(_c.state == OutboxState.DEAD.value).order_by(_c.id)
        if keys is not None:
            query = query.where(_c.idempotency_key.in_(sorted(set(keys))))
        revived: list[OutboxEntry] = []
        async with self._store.write() as conn:
            for row in (await conn.execute(query)).all():
                await conn.execute(
                    update(t.export_outbox)
                    .where(_c.id == row.id, _c.state == OutboxState.DEAD.value)
                    .values(state=OutboxState.PENDING.value, next_attempt_at=to_ms(now), created_at=to_ms(now))
                )
                revived.append(_entry(row))
        return revived

    async def entry(self, key: str) -> OutboxEntry | None:
        rows = await self._store.fetch(select(t.export_outbox).where(_c.idempotency_key == key))
        return _entry(rows[0]) if rows else None

    async def entries(self, state: OutboxState | None = None) -> list[OutboxEntry]:
        query = select(t.export_outbox).order_by(_c.id)
        if state is not None:
            query = query.where(_c.state == state.value)
        return [_entry(row) for row in await self._store.fetch(query)]

    # -- plumbing ---------------------------------------------------------------------------------

    async def _change(self, entry_id: int, values: dict[str, Any], *, attempts: int | None = None) -> bool:
        condition = [_c.id == entry_id, _c.state == OutboxState.PENDING.value]
        if attempts is not None:
            condition.append(_c.attempts == attempts)
        async with self._store.write() as conn:
            result = await conn.execute(update(t.export_outbox).where(*condition).values(**values))
        return bool(result.rowcount == 1)


def _entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        statement_id=row.statement_id,
        version=row.statement_version,
        key=row.idempotency_key,
        body=bytes(row.body),
        state=OutboxState(row.state),
        attempts=row.attempts,
        next_attempt_at=from_ms(row.next_attempt_at),
        last_error=row.last_error,
        receipt=json.loads(row.receipt) if row.receipt is not None else None,
        created_at=from_ms(row.created_at),
        delivered_at=opt_from_ms(row.delivered_at),
    )
