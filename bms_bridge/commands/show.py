"""`bms-bridge show SITE STATEMENT_ID [--json]`: one statement, line by line, with its totals.

Each line shows the metering point and meter serial, the opening and closing register readings,
quantity, unit, unit price, amount, VAT and how much of the quantity was estimated or corrected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from decimal import Decimal
from typing import Any

from bms_bridge.commands.billing_common import Refused, open_billing, refuse, statement_json
from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _load(site: LoadedSite, db: str | None, wanted: str) -> dict[str, Any]:
    async with open_billing(site, db) as billing:
        return statement_json(billing, await billing.statement(wanted))


def as_text(data: dict[str, Any]) -> str:
    out = [
        f"{data['id']}  {data['state']}  (version {data['version']}"
        + (f", supersedes {data['supersedes']})" if data["supersedes"] else ")"),
        f"{data['tenant_name'] or data['tenant']}  account {data['billing_account']}  contract {data['contract']}"
        f"  period {data['period']}",
        f"created {data['created_at']} by {data['created_by']}",
        "",
    ]
    for line in data["lines"]:
        out.append(f"{line['line']:>3}. {line['kind']:<10} {line['description']}")
        where = []
        if line["point"]:
            where.append(f"point {line['point']}")
        if line["meter_serial"]:
            where.append(f"meter {line['meter_serial']}")
        if line["opening"] is not None or line["closing"] is not None:
            where.append(f"register {line['opening'] or '?'} -> {line['closing'] or '?'}")
        if where:
            out.append("     " + ", ".join(where))
        out.append(
            f"     {line['quantity']} {line['unit']} x {line['unit_price']} = {line['net']} {data['currency']}"
            f"  + VAT {line['vat_percent']} % {line['vat']}  = {line['gross']}"
        )
        notes = []
        if Decimal(line["share_percent"]) != 100:
            notes.append(f"share {line['share_percent']} %")
        if Decimal(line["estimated_percent"]):
            notes.append(f"estimated/corrected {line['estimated_percent']} %")
        if line["basis"]:
            notes.append(line["basis"])
        if line["refers_to"]:
            notes.append(f"corrects {line['refers_to']}")
        if line["adjusted"]:
            a = line["adjusted"]
            notes.append(f"adjusted {a['at']} by {a['by']}: {a['reason']}")
        if notes:
            out.append("     " + "; ".join(notes))
    out += [
        "",
        f"net   {data['net']:>14} {data['currency']}",
        f"VAT   {data['vat']:>14} {data['currency']}",
        f"gross {data['gross']:>14} {data['currency']}",
    ]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        data = asyncio.run(_load(site, args.db, args.statement))
    except Refused as error:
        return refuse(str(error))
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else as_text(data))
    return 0
