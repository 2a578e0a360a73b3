"""`bms-bridge statements SITE [--period YYYY-MM] [--state STATE] [--json]`: the stored statements."""

from __future__ import annotations

import argparse
import asyncio
import json

from billing_export.period import Period
from billing_export.statement import StatementState
from bms_bridge.commands.billing_common import Refused, open_billing, refuse, statement_json
from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _list(site: LoadedSite, args: argparse.Namespace) -> list[str] | list[dict[str, object]]:
    state = StatementState(args.state) if args.state else None
    async with open_billing(site, args.db) as billing:
        found = await billing.statements.find(billing.site_id, period=args.period, state=state)
        if args.json:
            return [statement_json(billing, s) for s in found]
        tenants = site.model.tenant_by_id
        rows = [
            f"{s.id:<44} {s.state.value:<10} {s.statement.net:>12} {s.statement.gross:>12} {s.statement.currency}  "
            f"{tenants[s.statement.tenant].name if s.statement.tenant in tenants else s.statement.tenant}"
            for s in found
        ]
        return rows


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    if args.period is not None:
        try:
            Period.parse(args.period, site.model.site.zone)
        except ValueError:
            return refuse(f"--period {args.period!r} is not a month; write it as YYYY-MM, e.g. 2026-11")
    try:
        rows = asyncio.run(_list(site, args))
    except Refused as error:
        return refuse(str(error))
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        where = f" for {args.period}" if args.period else ""
        print(f"no statements{where}; make them with: bms-bridge close {args.site} --period YYYY-MM")
        return 0
    print(f"{'statement':<44} {'state':<10} {'net':>12} {'gross':>12}      tenant")
    print("\n".join(str(row) for row in rows))
    return 0
