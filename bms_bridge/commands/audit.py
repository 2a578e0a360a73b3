"""`bms-bridge audit SITE [--statement ID] [--json]`: the append-only billing audit log, oldest first."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bms_bridge.commands.billing_common import Refused, audit_json, open_billing, refuse
from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _entries(site: LoadedSite, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with open_billing(site, args.db) as billing:
        sid = (await billing.statement(args.statement)).id if args.statement else None
        zone = site.model.site.zone
        return [audit_json(e, zone) for e in await billing.statements.audit(statement_id=sid)]


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        entries = asyncio.run(_entries(site, args))
    except Refused as error:
        return refuse(str(error))
    if args.json:
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    for e in entries:
        detail = json.dumps(e["detail"], ensure_ascii=False, sort_keys=True)
        print(f"{e['id']:>5} {e['at']} {e['actor']:<12} {e['action']:<10} {e['statement'] or '-'}  {detail}")
    if not entries:
        print("the audit log is empty")
    return 0
