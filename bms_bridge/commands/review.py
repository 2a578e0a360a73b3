"""`bms-bridge review SITE STATEMENT_ID [--by USER]`: mark a draft statement reviewed.

`approve` (bms_bridge/commands/approve.py) is the next step; both go through `step` below.
"""

from __future__ import annotations

import argparse
import asyncio

from billing_export.review import ReviewError
from billing_export.statement import StatementState
from billing_export.store import StoredStatement
from bms_bridge.commands.billing_common import Refused, actor, open_billing, refuse
from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _move(site: LoadedSite, args: argparse.Namespace, target: StatementState) -> StoredStatement:
    by = actor(args.by)
    async with open_billing(site, args.db) as billing:
        stored = await billing.statement(args.statement)
        return await billing.statements.transition(stored, target, by=by)


def step(args: argparse.Namespace, target: StatementState) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        moved = asyncio.run(_move(site, args, target))
    except (Refused, ReviewError) as error:
        return refuse(str(error))
    print(f"{moved.id} is {moved.state.value} (gross {moved.statement.gross} {moved.statement.currency})")
    return 0


def run(args: argparse.Namespace) -> int:
    return step(args, StatementState.REVIEWED)
