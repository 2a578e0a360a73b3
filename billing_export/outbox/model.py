"""What goes into the outbox and what a row of it says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

MAX_STATEMENT_ID = 200  # the column's width (export_outbox.statement_id)


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx (or 409: it already had this key)
    DEAD = "dead"  # refused for good, or still undelivered after the dead-letter window


def idempotency_key(statement_id: str, version: int) -> str:
    """One key per statement version: the receiver keeps the first delivery under a key and no other."""
    return f"{statement_id}:{version}"


@dataclass(frozen=True, slots=True)
class OutboxInput:
    """A statement version to deliver. `body` is sent byte for byte, so it is signed exactly as stored."""

    statement_id: str
    version: int
    body: bytes

    def __post_init__(self) -> None:
        if not self.statement_id.strip():
            raise ValueError("an outbox entry needs a statement id")
        if len(self.statement_id) > MAX_STATEMENT_ID:
            raise ValueError(f"statement id {self.statement_id[:40]!r}... is longer than {MAX_STATEMENT_ID} characters")
        if self.version < 1:
            raise ValueError(f"statement {self.statement_id}: version {self.version} must be 1 or more")

    @property
    def key(self) -> str:
        return idempotency_key(self.statement_id, self.version)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    statement_id: str
    version: int
    key: str
    body: bytes
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    receipt: dict[str, Any] | None
    created_at: datetime
    delivered_at: datetime | None
