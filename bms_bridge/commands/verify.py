"""`bms-bridge verify SITE [--from DAY --to DAY] [--json]`: recompute intervals from raw readings and
report every stored interval that differs (exit 1 if any). Nothing is written."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, timedelta

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.intervals import local_day_slots
from metering.readings import Interval
from metering.store import ConsumptionStore, Store
from metering.verify import Discrepancy, verify
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        first = date.fromisoformat(args.start) if args.start else None
        last = date.fromisoformat(args.end) if args.end else None
    except ValueError as error:
        print(f"error: {error}; give days as YYYY-MM-DD", file=sys.stderr)
        return 1
    if first and last and last < first:
        print(f"error: --to {last} is before --from {first}", file=sys.stderr)
        return 1
    found, span, pending = asyncio.run(_verify(site, database_url(site, args.db), first, last))
    if args.json:
        report = {"range": span, "differences": [_as_dict(d) for d in found], "pending_points": pending}
        print(json.dumps(report, indent=2))
    else:
        for difference in found:
            print(difference.describe())
        where = f"{span[0]} to {span[1]}" if span else "an empty store"
        print(f"{len(found)} stored interval(s) differ from a recomputation from raw readings ({where})")
        if pending:
            print(
                f"{len(pending)} point(s) have readings not yet recomputed ({', '.join(pending[:5])}"
                f"{', …' if len(pending) > 5 else ''}): the running service does it on its next refresh,"
                " and at stop; differences there are expected until then"
            )
    return 1 if found else 0


async def _verify(
    site: LoadedSite, url: str, first: date | None, last: date | None
) -> tuple[list[Discrepancy], tuple[str, str] | None, list[str]]:
    tz = site.model.site.zone
    async with Store.open(url) as store:
        data = await store.reading_span()
        pending = await ConsumptionStore(store).dirty_points()
        if first is None or last is None:
            if data is None:
                return [], None, pending
            first = first or data[0].astimezone(tz).date()
            last = last or data[1].astimezone(tz).date()
        start = local_day_slots(first, tz)[0]
        end = local_day_slots(last + timedelta(days=1), tz)[0]
        found = await verify(site, ConsumptionStore(store), start, end)
        return found, (first.isoformat(), last.isoformat()), pending


def _side(interval: Interval | None) -> dict[str, object] | None:
    return None if interval is None else {"value": interval.value, "quality": interval.quality.value}


def _as_dict(d: Discrepancy) -> dict[str, object]:
    return {
        "point": d.point_id,
        "start": d.start.isoformat(),
        "stored": _side(d.stored),
        "recomputed": _side(d.recomputed),
        "frozen": d.frozen,
    }
