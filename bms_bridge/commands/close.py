"""`bms-bridge close SITE --period YYYY-MM [--by USER]`: freeze a month and make its draft statements.

Readings not yet turned into intervals are computed first, so the month is frozen with everything that
has arrived. Closing a month again leaves its statements as they are; late data of months already
closed shows up as correction lines on the statements this close makes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from billing_export.closing import CloseRefused, CloseSummary
from billing_export.period import Period
from billing_export.pricing import PricingError
from bms_bridge.billing.hooks import close_in_store
from bms_bridge.commands.billing_common import Refused, actor, open_billing, refuse
from bms_bridge.commands.check import report_invalid
from bms_bridge.commands.progress_bar import progress_bar
from bms_bridge.sites import open_site
from metering.progress import Progress
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def close_month(
    site: LoadedSite, db: str | None, period: Period, by: str, now: datetime, progress: Progress | None = None
) -> CloseSummary:
    async with open_billing(site, db) as billing:
        return await close_in_store(site, billing.store, period, by=by, now=now, progress=progress)


def summary_json(summary: CloseSummary) -> dict[str, Any]:
    return {
        "period": summary.period,
        "statements": [
            {
                "id": c.stored.id,
                "created": c.created,
                "state": c.stored.state.value,
                "lines": len(c.stored.statement.lines),
                "corrections": c.corrections,
                "currency": c.stored.statement.currency,
                "net": str(c.stored.statement.net),
                "gross": str(c.stored.statement.gross),
            }
            for c in summary.statements
        ],
        "reconciliations": [
            {
                "pool": r.pool,
                "main": str(r.main),
                "billed": str(r.billed),
                "common": str(r.common),
                "losses": str(r.losses),
                "losses_percent": str(r.losses_percent),
                "flagged": r.flagged,
            }
            for r in summary.reconciliations
        ],
    }


def describe(summary: CloseSummary) -> list[str]:
    created = sum(1 for c in summary.statements if c.created)
    lines = [
        f"period {summary.period}: {created} statement(s) created as draft, "
        f"{len(summary.statements) - created} already there and left as they were"
    ]
    for closed in summary.statements:
        s = closed.stored.statement
        mark = "new " if closed.created else "kept"
        extra = f", {closed.corrections} correction line(s)" if closed.corrections else ""
        lines.append(
            f"  {mark} {closed.stored.id:<40} {closed.stored.state.value:<10} {len(s.lines):>3} lines"
            f"  net {s.net:>12} {s.currency}  gross {s.gross:>12}{extra}"
        )
    for r in summary.reconciliations:
        flag = "  LOSSES ABOVE TOLERANCE" if r.flagged else ""
        lines.append(
            f"  pool {r.pool}: main {r.main} = billed {r.billed} + common {r.common} + losses {r.losses} "
            f"({r.losses_percent} %){flag}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        period = Period.parse(args.period, site.model.site.zone)
    except ValueError:
        return refuse(f"--period {args.period!r} is not a month; write it as YYYY-MM, e.g. 2026-11")
    try:
        with progress_bar() as progress:  # stderr, on a terminal only
            summary = asyncio.run(close_month(site, args.db, period, actor(args.by), datetime.now(UTC), progress))
    except (Refused, CloseRefused, PricingError) as error:
        return refuse(str(error))
    except ValueError as error:  # e.g. a dynamic price CSV that cannot be read, a price source down
        return refuse(str(error))
    if args.json:
        print(json.dumps(summary_json(summary), indent=2))
    else:
        print("\n".join(describe(summary)))
    return 0
