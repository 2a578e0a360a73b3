"""What the billing commands share: opening the site's statements, finding one by id, showing it.

Refusals (a wrong state, an unknown statement, a missing reason) print one sentence saying what to do
and exit with `REFUSED`; nothing is written then.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from billing_export.statement import StatementState
from billing_export.store import AuditEntry, StatementStore, StoredStatement
from bms_bridge.sites import database_url
from metering.store import Store
from point_mapping.loader import LoadedSite

REFUSED = 1  # refused input, as every command; 2 is a usage error (argparse)


class Refused(Exception):
    """A billing command refuses; the message is one actionable sentence."""


def refuse(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return REFUSED


def actor(by: str | None) -> str:
    """Who acts: --by, or the logged-in user."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise Refused("cannot tell who you are; say it with --by NAME") from None


@dataclass
class Billing:
    site: LoadedSite
    store: Store
    statements: StatementStore

    @property
    def site_id(self) -> str:
        return self.site.model.site.id

    async def statement(self, text: str) -> StoredStatement:
        """By full id (site:period:contract:vN), without the version (the newest), or without the site."""
        wanted = text if text.startswith(f"{self.site_id}:") else f"{self.site_id}:{text}"
        found = await self.statements.get(wanted)
        if found is None and wanted.count(":") == 2:
            _, period, contract = wanted.split(":")
            found = await self.statements.latest(self.site_id, contract, period)
        if found is None:
            raise Refused(
                f"site {self.site_id} has no statement {text!r}; list them with: bms-bridge statements "
                f"{self.site.folder}"
            )
        return found


@asynccontextmanager
async def open_billing(site: LoadedSite, db: str | None) -> AsyncIterator[Billing]:
    try:
        async with Store.open(database_url(site, db)) as store:
            yield Billing(site, store, StatementStore(store))
    except ValueError as error:  # an unsupported database URL, a step the workflow refuses
        raise Refused(str(error)) from error


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def statement_json(billing: Billing, stored: StoredStatement) -> dict[str, Any]:
    zone = billing.site.model.site.zone
    s = stored.statement
    tenant = billing.site.model.tenant_by_id.get(s.tenant)
    lines = []
    for no, (line, adjustment) in enumerate(zip(s.lines, stored.adjustments, strict=True), 1):
        lines.append(
            {
                "line": no,
                "kind": line.kind.value,
                "description": line.description,
                "resource": line.resource,
                "point": line.point_id,
                "meter_serial": line.meter_serial,
                "zone": line.zone,
                "opening": text(line.opening),
                "closing": text(line.closing),
                "quantity": str(line.quantity),
                "unit": line.unit,
                "unit_price": str(line.unit_price),
                "net": str(line.net),
                "vat_percent": str(line.vat_percent),
                "vat": str(line.vat),
                "gross": str(line.gross),
                "share_percent": str(line.share_percent),
                "estimated_percent": str(line.estimated_percent),
                "basis": line.basis,
                "refers_to": line.refers_to,
                "adjusted": None
                if adjustment is None
                else {"at": local(adjustment.at, zone), "by": adjustment.by, "reason": adjustment.reason},
            }
        )
    return {
        "id": stored.id,
        "site": s.site,
        "period": s.period,
        "contract": s.contract,
        "tenant": s.tenant,
        "tenant_name": tenant.name if tenant is not None else None,
        "billing_account": s.billing_account,
        "version": stored.version,
        "state": stored.state.value,
        "supersedes": stored.supersedes,
        "created_at": local(stored.created_at, zone),
        "created_by": stored.created_by,
        "currency": s.currency,
        "net": str(s.net),
        "vat": str(s.vat),
        "gross": str(s.gross),
        "lines": lines,
    }


def audit_json(entry: AuditEntry, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": local(entry.at, zone),
        "actor": entry.actor,
        "action": entry.action,
        "statement": entry.statement_id,
        "detail": dict(entry.detail),
    }


def local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


STATES = [s.value for s in StatementState]
