"""A statement that will not be delivered becomes an event an operator sees (and can acknowledge)."""

from __future__ import annotations

from datetime import datetime

from billing_export.outbox.model import OutboxEntry
from metering.events import Event

DEAD_LETTER_KIND = "export-dead-letter"


def dead_letter_key(entry: OutboxEntry) -> str:
    """One event per statement version and delivery window: asking again after a crash adds nothing,
    while a version requeued by an operator (a new window) that dies again gets an event of its own."""
    return f"{DEAD_LETTER_KIND}:{entry.key}:{entry.created_at.isoformat()}"


def dead_letter_event(entry: OutboxEntry, reason: str, now: datetime) -> Event:
    """The event for a dead-lettered statement version."""
    return Event(
        kind=DEAD_LETTER_KIND,
        subject=entry.statement_id,
        severity="alarm",
        started_at=now,
        title=f"statement {entry.key} not delivered to the billing system: {reason}",
        dedup_key=dead_letter_key(entry),
        details={
            "statement_id": entry.statement_id,
            "statement_version": entry.version,
            "idempotency_key": entry.key,
            "attempts": entry.attempts,
            "queued_at": entry.created_at.isoformat(),
            "reason": reason,
        },
    )
