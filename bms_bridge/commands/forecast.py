"""`bms-bridge forecast SITE [--json] [--today YYYY-MM-DD]`: this month per building and tenant.

Measured so far plus the baseline's forecast of the rest, with its uncertainty and cost; days of the
month outside their prediction interval are stored as `forecast-deviation` events (`bms-bridge events`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime

from bms_bridge.commands.check import report_invalid
from bms_bridge.savings.forecasts import ForecastResult, record_forecasts
from bms_bridge.savings.inputs import SavingsInputError
from bms_bridge.sites import database_url, open_site
from metering.events import Event
from metering.store import Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _forecast(site: LoadedSite, db_url: str, today: date) -> tuple[list[ForecastResult], list[Event]]:
    async with Store.open(db_url) as store:
        return await record_forecasts(site, store, today)


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        today = (
            date.fromisoformat(args.today) if args.today else datetime.now(UTC).astimezone(site.model.site.zone).date()
        )
    except ValueError:
        print(f"error: --today {args.today!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return 1
    try:
        results, events = asyncio.run(_forecast(site, database_url(site, args.db), today))
    except SavingsInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {"today": today.isoformat(), "forecasts": [r.as_json() for r in results], "deviations": len(events)},
                indent=2,
            )
        )
        return 0
    for r in results:
        f = r.forecast
        if f is None:
            print(f"{r.subject:<28} {r.resource.value:<12} no forecast: {'; '.join(r.reasons)}")
            continue
        cost = f"  {r.forecast_cost} {r.currency}" if r.forecast_cost is not None else ""
        print(
            f"{r.subject:<28} {r.resource.value:<12} {f.total:>12,.1f} ± {f.uncertainty:,.1f} {r.unit}"
            f" ({f.measured:,.1f} in {f.measured_days} days + {f.rest:,.1f} forecast){cost}"
        )
    print(f"{len(events)} day{'s' if len(events) != 1 else ''} outside their forecast")
    return 0
