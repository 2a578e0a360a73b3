"""`bms-bridge adjust SITE STATEMENT_ID --line N (--amount X | --quantity X) --reason TEXT [--by USER]`.

A draft or reviewed statement is changed in place (a reviewed one goes back to draft); an approved or
exported one is never changed: the adjustment makes its next version, as a draft, and the old one is
marked superseded. Who, when, why and the numbers before and after go to the audit log.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal, InvalidOperation

from billing_export.review import ReviewError
from billing_export.store import StoredStatement
from bms_bridge.commands.billing_common import Refused, actor, open_billing, refuse
from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


def _decimal(option: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise Refused(f"{option} {value!r} is not a number; write it like 123.45") from None
    if not number.is_finite():
        raise Refused(f"{option} must be a finite number")
    return number


async def _adjust(site: LoadedSite, args: argparse.Namespace) -> tuple[StoredStatement, StoredStatement]:
    amount, quantity = _decimal("--amount", args.amount), _decimal("--quantity", args.quantity)
    by = actor(args.by)
    async with open_billing(site, args.db) as billing:
        before = await billing.statement(args.statement)
        after = await billing.statements.adjust(
            before, args.line, by=by, reason=args.reason, amount=amount, quantity=quantity
        )
        return before, after


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        before, after = asyncio.run(_adjust(site, args))
    except (Refused, ReviewError) as error:
        return refuse(str(error))
    line = after.statement.lines[args.line - 1]
    print(f"{after.id} line {args.line}: {line.quantity} {line.unit}, net {line.net}, VAT {line.vat}")
    if after.id != before.id:
        print(f"{before.id} was {before.state.value}: it stays as issued, superseded by {after.id} (draft)")
    elif after.state != before.state:
        print(f"{after.id} is {after.state.value} again: review it once more")
    print(f"total net {after.statement.net} (was {before.statement.net}), gross {after.statement.gross}")
    return 0
