"""Events in the store: faults, findings and alarms with their evidence, wasted energy and cost, and
their acknowledgement, deduplicated by key (the one event model of `metering.events`).

Its own file because events have their own life cycle (opened, refreshed, acknowledged, ended) and
their own JSON columns, used by the HVAC, anomaly and consumption rules alike; nothing here touches
readings. The row decoding and the finding columns live here with the methods that use them.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select, update

from metering.events import Acknowledgement, EvidenceSample
from metering.store import schema as t
from metering.store.base import StoreBase
from metering.store.records import Event
from metering.store.timecodec import from_ms, opt_from_ms, opt_to_ms, to_ms


class EventRecords(StoreBase):
    """Add, refresh, acknowledge, end and list events."""

    async def add_event(self, event: Event) -> int:
        """Store `event` unless its dedup key is already there; returns the stored event's id."""
        values = {
            "kind": event.kind,
            "subject": event.subject,
            "severity": event.severity,
            "started_at": to_ms(event.started_at),
            "ended_at": opt_to_ms(event.ended_at),
            "title": event.title,
            "details": json.dumps(event.details, sort_keys=True),
            "energy": event.energy,
            "energy_unit": event.energy_unit,
            "cost": event.cost,
            "currency": event.currency,
            "dedup_key": event.dedup_key,
            **_finding_columns(event),
        }
        c = t.events.c
        stmt = self.insert(t.events).values(values).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(c.id)
        async with self.write() as conn:
            new_id = (await conn.execute(stmt)).scalar()
            if new_id is None:
                new_id = (await conn.execute(select(c.id).where(c.dedup_key == event.dedup_key))).scalar_one()
        return int(new_id)

    async def end_event(self, dedup_key: str, ended_at: datetime) -> bool:
        """Close an open event; False when there is no such event or it has already ended."""
        c = t.events.c
        async with self.write() as conn:
            result = await conn.execute(
                update(t.events).where(c.dedup_key == dedup_key, c.ended_at.is_(None)).values(ended_at=to_ms(ended_at))
            )
        return bool(result.rowcount == 1)

    async def update_finding(self, event: Event) -> bool:
        """Refresh an open finding (stored under `event.dedup_key`): end, evidence, wasted energy and cost.

        The start, kind and acknowledgement stay as stored; False when there is no open finding by that key.
        """
        c = t.events.c
        values: dict[str, Any] = {
            "ended_at": opt_to_ms(event.ended_at),
            "energy": event.energy,
            "energy_unit": event.energy_unit,
            "cost": event.cost,
            "currency": event.currency,
            "details": json.dumps(event.details, sort_keys=True),
            **_finding_columns(event),
        }
        for untouched in ("acked_by", "acked_at", "ack_comment"):
            values.pop(untouched)
        async with self.write() as conn:
            result = await conn.execute(
                update(t.events).where(c.dedup_key == event.dedup_key, c.ended_at.is_(None)).values(values)
            )
        return bool(result.rowcount == 1)

    async def acknowledge_event(self, event_id: int, ack: Acknowledgement) -> bool:
        """Record who acknowledged an event, when and why; False when there is no such event.

        A second acknowledgement replaces the first (the latest word counts); the event stays open.
        """
        c = t.events.c
        async with self.write() as conn:
            result = await conn.execute(
                update(t.events)
                .where(c.id == event_id)
                .values(acked_by=ack.by, acked_at=to_ms(ack.at), ack_comment=ack.comment)
            )
        return bool(result.rowcount == 1)

    async def open_events(self, *, kind_prefix: str | None = None) -> list[Event]:
        """Events that have not ended, optionally only those whose kind starts with `kind_prefix`."""
        c = t.events.c
        query = select(t.events).where(c.ended_at.is_(None)).order_by(c.started_at, c.id)
        if kind_prefix is not None:
            query = query.where(c.kind.startswith(kind_prefix, autoescape=True))
        return [_event(row) for row in await self.fetch(query)]

    async def events(
        self,
        *,
        kind: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events whose start is in [since, until), oldest first, optionally filtered."""
        c = t.events.c
        query = select(t.events).order_by(c.started_at, c.id)
        if kind is not None:
            query = query.where(c.kind == kind)
        if subject is not None:
            query = query.where(c.subject == subject)
        if since is not None:
            query = query.where(c.started_at >= to_ms(since))
        if until is not None:
            query = query.where(c.started_at < to_ms(until))
        if limit is not None:
            query = query.limit(limit)
        return [_event(row) for row in await self.fetch(query)]


def _event(row: Row[Any]) -> Event:
    return Event(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        severity=row.severity,
        started_at=from_ms(row.started_at),
        ended_at=opt_from_ms(row.ended_at),
        title=row.title,
        details=json.loads(row.details),
        energy=row.energy,
        energy_unit=row.energy_unit,
        cost=row.cost,
        currency=row.currency,
        dedup_key=row.dedup_key,
        equipment=row.equipment,
        zone=row.zone,
        tenants=tuple(json.loads(row.tenants)) if row.tenants else (),
        evidence=tuple(EvidenceSample.from_json(e) for e in json.loads(row.evidence)) if row.evidence else (),
        cost_exact=Decimal(row.cost_exact) if row.cost_exact is not None else None,
        acknowledgement=(
            Acknowledgement(row.acked_by, from_ms(row.acked_at), row.ack_comment or "")
            if row.acked_by is not None and row.acked_at is not None
            else None
        ),
    )


def _finding_columns(event: Event) -> dict[str, Any]:
    ack = event.acknowledgement
    return {
        "equipment": event.equipment,
        "zone": event.zone,
        "tenants": json.dumps(list(event.tenants)) if event.tenants else None,
        "evidence": json.dumps([e.as_json() for e in event.evidence]) if event.evidence else None,
        "cost_exact": str(event.cost_exact) if event.cost_exact is not None else None,
        "acked_by": ack.by if ack else None,
        "acked_at": to_ms(ack.at) if ack else None,
        "ack_comment": ack.comment if ack else None,
    }
