"""The billing review's query layer: statements the caller may see, and the review steps it may take.

Like `SiteQueries`, every read asks the caller's `Scope` first: a tenant sees its own statements only
(`Scope.sees_statement`), anything else answers as if it did not exist. Reviewing, adjusting and
approving need `Permission.REVIEW_BILLING`; each step goes through `billing_export`'s statement store,
which enforces the workflow and writes the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from billing_export.outbox.model import OutboxEntry
from billing_export.outbox.store import OutboxStore
from billing_export.review import ReviewError
from billing_export.statement import StatementState
from billing_export.store import AuditEntry, StatementStore, StoredStatement
from bms_bridge.web.params import BadRequest
from bms_bridge.web.roles import Permission
from bms_bridge.web.scope import NotVisible, Scope
from metering.store import Store

STEPS = {"review": StatementState.REVIEWED, "approve": StatementState.APPROVED}
# what a tenant sees: statements once issued, never a draft under review
ISSUED = frozenset({StatementState.APPROVED, StatementState.EXPORTED, StatementState.SUPERSEDED})


@dataclass(frozen=True)
class StatementView:
    stored: StoredStatement
    audit: tuple[AuditEntry, ...]
    delivery: OutboxEntry | None  # the outbox entry of this version, if it was handed to delivery

    @property
    def outbox_key(self) -> str:
        return f"{self.stored.statement.id}:{self.stored.version}"


class StatementReview:
    def __init__(self, site_id: str, store: Store) -> None:
        self.site_id = site_id
        self.statements = StatementStore(store)
        self.outbox = OutboxStore(store)

    async def list(
        self, scope: Scope, *, period: str | None = None, state: StatementState | None = None
    ) -> list[StoredStatement]:
        scope.require(Permission.VIEW_BILLING)
        found = await self.statements.find(self.site_id, period=period, state=state)
        visible = [s for s in found if _visible(scope, s)]
        return sorted(visible, key=lambda s: (s.statement.period, s.statement.contract, s.version), reverse=True)

    async def get(self, scope: Scope, statement_id: str) -> StoredStatement:
        scope.require(Permission.VIEW_BILLING)
        found = await self.statements.get(statement_id)
        if found is None or found.statement.site != self.site_id or not _visible(scope, found):
            raise NotVisible(f"no statement {statement_id!r}")
        return found

    async def view(self, scope: Scope, statement_id: str) -> StatementView:
        stored = await self.get(scope, statement_id)
        audit = tuple(await self.statements.audit(statement_id=stored.id)) if scope.tenant_id is None else ()
        delivery = await self.outbox.entry(f"{stored.statement.id}:{stored.version}")
        return StatementView(stored, audit, delivery)

    async def step(self, scope: Scope, statement_id: str, step: str, by: str) -> StoredStatement:
        scope.require(Permission.REVIEW_BILLING)
        target = STEPS.get(step)
        if target is None:
            raise BadRequest(f"unknown step {step!r}; use review or approve")
        stored = await self.get(scope, statement_id)
        try:
            return await self.statements.transition(stored, target, by=by)
        except ReviewError as error:
            raise BadRequest(str(error)) from None

    async def adjust(
        self, scope: Scope, statement_id: str, line: int, by: str, reason: str, *, amount: str = "", quantity: str = ""
    ) -> StoredStatement:
        scope.require(Permission.REVIEW_BILLING)
        stored = await self.get(scope, statement_id)
        if bool(amount.strip()) == bool(quantity.strip()):
            raise BadRequest("give either a new amount or a new quantity for the line")
        try:
            return await self.statements.adjust(
                stored, line, by=by, reason=reason, amount=_decimal(amount), quantity=_decimal(quantity)
            )
        except ReviewError as error:
            raise BadRequest(str(error)) from None


def _visible(scope: Scope, stored: StoredStatement) -> bool:
    if not scope.sees_statement(stored.statement.tenant):
        return False
    return scope.tenant_id is None or stored.state in ISSUED


def _decimal(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise BadRequest(f"{text!r} is not a number; write it like 123.45 (a decimal point, no grouping)") from None
    if not value.is_finite():
        raise BadRequest("the number must be finite")
    return value
