"""Which statements a scheduled export hands to the outbox.

Only approved statements go to the billing system: an accountant has looked at them. A site that opts
into `auto_approve` sends drafts and reviewed ones too, approving them on the way (recorded as such by
whoever keeps the statements). Exported ones are in the outbox already; superseded ones are replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from billing_export.exports.statement_json import statement_bytes
from billing_export.outbox.model import OutboxInput
from billing_export.period import Period
from billing_export.statement import Statement, StatementState

_AUTO_APPROVABLE = frozenset({StatementState.DRAFT, StatementState.REVIEWED})


@dataclass(frozen=True, slots=True)
class ExportCandidate:
    """A stored statement version and its rendered body, as the statement store gives it."""

    statement_id: str
    version: int
    state: StatementState
    body: bytes

    @classmethod
    def of(cls, statement: Statement, version: int, state: StatementState) -> ExportCandidate:
        """A statement version with its canonical JSON document as the body (docs/exports.md)."""
        return cls(statement.id, version, state, statement_bytes(statement, version))

    def as_input(self) -> OutboxInput:
        return OutboxInput(self.statement_id, self.version, self.body)


@dataclass(frozen=True, slots=True)
class Selection:
    deliver: tuple[OutboxInput, ...]  # into the outbox
    approve: tuple[ExportCandidate, ...]  # to approve first (auto_approve only)
    held: tuple[ExportCandidate, ...]  # waiting for an accountant


def select_for_delivery(candidates: Iterable[ExportCandidate], *, auto_approve: bool) -> Selection:
    deliver: list[OutboxInput] = []
    approve: list[ExportCandidate] = []
    held: list[ExportCandidate] = []
    for candidate in candidates:
        if candidate.state is StatementState.APPROVED:
            deliver.append(candidate.as_input())
        elif candidate.state in _AUTO_APPROVABLE:
            if auto_approve:
                approve.append(candidate)
                deliver.append(candidate.as_input())
            else:
                held.append(candidate)
    return Selection(tuple(deliver), tuple(approve), tuple(held))


class StatementFeed(Protocol):
    """What the statement store offers a scheduled export (implemented where statements are kept)."""

    async def export_candidates(self, period: Period) -> list[ExportCandidate]:
        """The current version of every statement of `period`, rendered as the body to deliver."""
        ...

    async def approve(self, candidate: ExportCandidate, by: str) -> None:
        """Approve a draft or reviewed statement on behalf of `by` (recorded in the audit log)."""
        ...

    async def exported(self, statement_id: str, version: int, receipt: dict[str, Any]) -> None:
        """The billing system has this version (approved -> exported). The outbox row stays the record of
        truth: a crash between the two leaves the row delivered, and this may be called again for it."""
        ...
