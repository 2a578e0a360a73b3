"""Statements, their lines and the audit log in the site's database (SQLAlchemy Core).

Every change of a statement and its audit entry are written in one transaction. A state change is a
compare-and-set on the state the caller saw, so two accountants approving at once cannot both win.
Approved and exported statements are never updated here except to mark them superseded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from billing_export.review import EDITABLE, ISSUED, ReviewError, adjusted_line, check_adjustable, check_transition
from billing_export.statement import LineKind, Statement, StatementLine, StatementState
from billing_export.store import schema as b
from metering.store.store import Store
from metering.store.timecodec import from_ms, opt_from_ms, to_ms

S = StatementState


@dataclass(frozen=True)
class Adjustment:
    at: datetime
    by: str
    reason: str


@dataclass(frozen=True)
class StoredStatement:
    id: str
    version: int
    state: StatementState
    created_at: datetime
    created_by: str
    state_changed_at: datetime
    supersedes: str | None
    statement: Statement
    adjustments: tuple[Adjustment | None, ...]  # per line, None where the line is as computed


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    statement_id: str | None
    detail: Mapping[str, Any]


def statement_id(statement: Statement, version: int) -> str:
    return f"{statement.id}:v{version}"


class StatementStore:
    """Billing's repository over a `Store`'s engine."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ----------------------------------------------------------------------------------

    async def get(self, sid: str) -> StoredStatement | None:
        found = await self._load(b.statements.c.id == sid)
        return found[0] if found else None

    async def versions(self, site: str, contract: str, period: str) -> list[StoredStatement]:
        c = b.statements.c
        return await self._load((c.site == site) & (c.contract == contract) & (c.period == period))

    async def latest(self, site: str, contract: str, period: str) -> StoredStatement | None:
        versions = await self.versions(site, contract, period)
        return versions[-1] if versions else None

    async def find(
        self, site: str, *, period: str | None = None, state: StatementState | None = None, contract: str | None = None
    ) -> list[StoredStatement]:
        c = b.statements.c
        where = c.site == site
        if period is not None:
            where &= c.period == period
        if state is not None:
            where &= c.state == state.value
        if contract is not None:
            where &= c.contract == contract
        return await self._load(where)

    async def audit(self, *, statement_id: str | None = None) -> list[AuditEntry]:
        a = b.audit_log.c
        query = select(b.audit_log).order_by(a.id)
        if statement_id is not None:
            query = query.where(a.statement_id == statement_id)
        return [
            AuditEntry(r.id, from_ms(r.at), r.actor, r.action, r.statement_id, json.loads(r.detail))
            for r in await self.store.fetch(query)
        ]

    async def _load(self, where: Any) -> list[StoredStatement]:
        c, lc = b.statements.c, b.statement_lines.c
        heads = await self.store.fetch(select(b.statements).where(where).order_by(c.period, c.contract, c.version))
        if not heads:
            return []
        ids = [h.id for h in heads]
        lines: dict[str, list[Row[Any]]] = {sid: [] for sid in ids}
        for chunk in range(0, len(ids), 500):  # bounded IN lists
            rows = await self.store.fetch(
                select(b.statement_lines)
                .where(lc.statement_id.in_(ids[chunk : chunk + 500]))
                .order_by(lc.statement_id, lc.line_no)
            )
            for row in rows:
                lines[row.statement_id].append(row)
        return [_stored(head, lines[head.id]) for head in heads]

    # -- writing ----------------------------------------------------------------------------------

    async def create(
        self,
        statement: Statement,
        *,
        by: str,
        version: int = 1,
        supersedes: StoredStatement | None = None,
        detail: Mapping[str, Any] | None = None,
        adjusted: tuple[int, str] | None = None,
    ) -> StoredStatement:
        """Store `statement` as a new draft version (and mark `supersedes` superseded, if given).

        `adjusted`: (line number, reason) of the line a person changed to make this version."""
        sid = statement_id(statement, version)
        try:
            await self._insert(statement, sid, version, supersedes, by, detail, adjusted)
        except IntegrityError:  # another close or adjustment stored this version first
            raise ReviewError(f"statement {sid} was stored meanwhile; look at it again and retry") from None
        created = await self.get(sid)
        assert created is not None
        return created

    async def _insert(
        self,
        statement: Statement,
        sid: str,
        version: int,
        supersedes: StoredStatement | None,
        by: str,
        detail: Mapping[str, Any] | None,
        adjusted: tuple[int, str] | None,
    ) -> None:
        now = to_ms(self.store._clock())
        async with self.store.write() as conn:
            if supersedes is not None:
                await self._set_state(conn, supersedes, S.SUPERSEDED, now, by, {"by_version": sid})
            await conn.execute(
                b.statements.insert().values(
                    id=sid,
                    site=statement.site,
                    contract=statement.contract,
                    tenant=statement.tenant,
                    billing_account=statement.billing_account,
                    period=statement.period,
                    version=version,
                    state=S.DRAFT.value,
                    currency=statement.currency,
                    net=str(statement.net),
                    vat=str(statement.vat),
                    gross=str(statement.gross),
                    supersedes=supersedes.id if supersedes is not None else None,
                    created_at=now,
                    created_by=by,
                    state_changed_at=now,
                )
            )
            rows = [_line_row(sid, n, line) for n, line in enumerate(statement.lines, 1)]
            if adjusted is not None:
                rows[adjusted[0] - 1].update(adjusted_at=now, adjusted_by=by, adjust_reason=adjusted[1])
            if rows:
                await conn.execute(b.statement_lines.insert(), rows)
            summary = {"version": version, "lines": len(statement.lines), "net": str(statement.net)}
            await self._audit(conn, now, by, "created", sid, {**summary, **(detail or {})})

    async def transition(self, stored: StoredStatement, target: StatementState, *, by: str) -> StoredStatement:
        """Move `stored` one step on (review, approve, export); refused unless the workflow allows it."""
        check_transition(stored.id, stored.state, target)
        now = to_ms(self.store._clock())
        async with self.store.write() as conn:
            await self._set_state(conn, stored, target, now, by, {})
        moved = await self.get(stored.id)
        assert moved is not None
        return moved

    async def adjust(
        self,
        stored: StoredStatement,
        line_no: int,
        *,
        by: str,
        reason: str,
        amount: Decimal | None = None,
        quantity: Decimal | None = None,
    ) -> StoredStatement:
        """Change one line's amount or quantity. A draft or reviewed statement is changed in place (a
        reviewed one goes back to draft); an approved or exported one gets a new draft version instead."""
        check_adjustable(stored.id, stored.state)
        if not reason.strip():
            raise ReviewError("an adjustment needs a reason (--reason TEXT)")
        lines = stored.statement.lines
        if not 1 <= line_no <= len(lines):
            raise ReviewError(f"statement {stored.id} has lines 1 to {len(lines)}, not {line_no}")
        old = lines[line_no - 1]
        new = adjusted_line(old, stored.statement.currency, amount=amount, quantity=quantity)
        detail = {
            "line": line_no,
            "reason": reason,
            "before": {"quantity": str(old.quantity), "net": str(old.net), "vat": str(old.vat)},
            "after": {"quantity": str(new.quantity), "net": str(new.net), "vat": str(new.vat)},
        }
        if stored.state in ISSUED:
            changed = replace(stored.statement, lines=(*lines[: line_no - 1], new, *lines[line_no:]))
            return await self.create(  # one transaction: old version superseded, new one with the change
                changed,
                by=by,
                version=stored.version + 1,
                supersedes=stored,
                detail={"adjusted": detail},
                adjusted=(line_no, reason),
            )
        assert stored.state in EDITABLE
        return await self._mark_adjusted(stored, line_no, new, by, reason, detail)

    async def record(self, *, by: str, action: str, statement_id: str | None, detail: Mapping[str, Any]) -> None:
        """An audit entry for something done to statements as a whole (a close, an export run)."""
        async with self.store.write() as conn:
            await self._audit(conn, to_ms(self.store._clock()), by, action, statement_id, detail)

    async def _mark_adjusted(
        self,
        stored: StoredStatement,
        line_no: int,
        new: StatementLine,
        by: str,
        reason: str,
        detail: dict[str, Any],
    ) -> StoredStatement:
        now = to_ms(self.store._clock())
        lc, c = b.statement_lines.c, b.statements.c
        lines = list(stored.statement.lines)
        lines[line_no - 1] = new
        totals = replace(stored.statement, lines=tuple(lines))
        async with self.store.write() as conn:
            values = _line_row(stored.id, line_no, new)
            values.update(adjusted_at=now, adjusted_by=by, adjust_reason=reason)
            await conn.execute(
                update(b.statement_lines).where(lc.statement_id == stored.id, lc.line_no == line_no).values(values)
            )
            state = S.DRAFT if stored.state == S.REVIEWED else stored.state
            result = await conn.execute(
                update(b.statements)
                .where(c.id == stored.id, c.state == stored.state.value)
                .values(net=str(totals.net), vat=str(totals.vat), gross=str(totals.gross), state=state.value)
            )
            if result.rowcount != 1:
                raise ReviewError(f"statement {stored.id} was changed meanwhile; look at it again and retry")
            if state != stored.state:
                detail = {**detail, "state": {"from": stored.state.value, "to": state.value}}
            await self._audit(conn, now, by, "adjusted", stored.id, detail)
        adjusted = await self.get(stored.id)
        assert adjusted is not None
        return adjusted

    async def _set_state(
        self,
        conn: AsyncConnection,
        stored: StoredStatement,
        target: StatementState,
        now: int,
        by: str,
        detail: Mapping[str, Any],
    ) -> None:
        c = b.statements.c
        result = await conn.execute(
            update(b.statements)
            .where(c.id == stored.id, c.state == stored.state.value)
            .values(state=target.value, state_changed_at=now)
        )
        if result.rowcount != 1:
            raise ReviewError(f"statement {stored.id} was changed meanwhile; look at it again and retry")
        await self._audit(conn, now, by, target.value, stored.id, {"from": stored.state.value, **detail})

    async def _audit(
        self, conn: AsyncConnection, at: int, actor: str, action: str, sid: str | None, detail: Mapping[str, Any]
    ) -> None:
        await conn.execute(
            b.audit_log.insert().values(
                at=at, actor=actor, action=action, statement_id=sid, detail=json.dumps(detail, sort_keys=True)
            )
        )


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _line_row(sid: str, line_no: int, line: StatementLine) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "statement_id": sid,
        "line_no": line_no,
        "kind": line.kind.value,
        "description": line.description,
        "resource": line.resource,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "net": str(line.net),
        "vat_percent": str(line.vat_percent),
        "vat": str(line.vat),
        "point_id": line.point_id,
        "meter_serial": line.meter_serial,
        "zone": line.zone,
        "opening": text(line.opening),
        "closing": text(line.closing),
        "share_percent": str(line.share_percent),
        "estimated_percent": str(line.estimated_percent),
        "basis": line.basis,
        "refers_to": line.refers_to,
        "adjusted_at": None,  # set by an adjustment; every row has the keys, as executemany wants
        "adjusted_by": None,
        "adjust_reason": None,
    }


def _line(row: Row[Any]) -> StatementLine:
    return StatementLine(
        kind=LineKind(row.kind),
        description=row.description,
        resource=row.resource,
        quantity=Decimal(row.quantity),
        unit=row.unit,
        unit_price=Decimal(row.unit_price),
        net=Decimal(row.net),
        vat_percent=Decimal(row.vat_percent),
        vat=Decimal(row.vat),
        point_id=row.point_id,
        meter_serial=row.meter_serial,
        zone=row.zone,
        opening=_dec(row.opening),
        closing=_dec(row.closing),
        share_percent=Decimal(row.share_percent),
        estimated_percent=Decimal(row.estimated_percent),
        basis=row.basis,
        refers_to=row.refers_to,
    )


def _stored(head: Row[Any], rows: Sequence[Row[Any]]) -> StoredStatement:
    statement = Statement(
        site=head.site,
        contract=head.contract,
        tenant=head.tenant,
        billing_account=head.billing_account,
        period=head.period,
        currency=head.currency,
        lines=tuple(_line(r) for r in rows),
    )
    adjustments = tuple(
        Adjustment(at, r.adjusted_by or "", r.adjust_reason or "")
        if (at := opt_from_ms(r.adjusted_at)) is not None
        else None
        for r in rows
    )
    return StoredStatement(
        id=head.id,
        version=head.version,
        state=StatementState(head.state),
        created_at=from_ms(head.created_at),
        created_by=head.created_by,
        state_changed_at=from_ms(head.state_changed_at),
        supersedes=head.supersedes,
        statement=statement,
        adjustments=adjustments,
    )
