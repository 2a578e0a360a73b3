"""`bms-bridge consumption SITE --point ID --from DAY --to DAY [--by day] [--json]`.

Days are local days in the site's time zone: the period runs from the first day's 00:00 to the day
after the last day, 00:00 (so a DST day counts 23 or 25 hours). Intervals computed on the way are
stored, like the service's own refresh does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.consumption import (
    ConsumptionError,
    ConsumptionResult,
    cumulative_point,
    fault_dicts,
    point_intervals,
)
from metering.intervals import Bucket, BucketSize, aggregate, local_day_slots
from metering.store import ConsumptionStore, Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


class _Refused(Exception):
    """Input the command refuses; the message is printed as is."""


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        tz = site.model.site.zone
        first, last = _days(args.start, args.end)
        cumulative_point(site, args.point)  # before the database is opened: a typo creates no file
        start, end = local_day_slots(first, tz)[0], local_day_slots(last + timedelta(days=1), tz)[0]
        result = asyncio.run(_compute(site, database_url(site, args.db), args.point, start, end))
    except (_Refused, ConsumptionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    by: BucketSize = args.by
    buckets = aggregate(result.intervals, by, tz)
    if args.json:
        print(json.dumps(_as_json(result, buckets, by, tz, first, last), indent=2, ensure_ascii=False))
    else:
        print(_as_table(result, buckets, by, tz, first, last))
    return 0


def _days(start: str, end: str) -> tuple[date, date]:
    days = []
    for option, text in (("--from", start), ("--to", end)):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise _Refused(f"{option} {text!r} is not a date; use YYYY-MM-DD") from None
    first, last = days
    if last < first:
        raise _Refused(f"--to {last} is before --from {first}")
    return first, last


async def _compute(site: LoadedSite, url: str, point_id: str, start: datetime, end: datetime) -> ConsumptionResult:
    try:
        async with Store.open(url) as store:
            return await point_intervals(site, ConsumptionStore(store), point_id, start, end)
    except ValueError as error:  # e.g. an unsupported database URL
        if isinstance(error, ConsumptionError):
            raise
        raise _Refused(str(error)) from error


def _as_json(
    result: ConsumptionResult, buckets: list[Bucket], by: str, tz: ZoneInfo, first: date, last: date
) -> dict[str, Any]:
    return {
        "point": result.point_id,
        "unit": result.unit,
        "resource": result.resource,
        "by": by,
        "timezone": tz.key,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "total": _round(result.total),
        "buckets": [
            {
                "start": b.start_local.isoformat(),
                "end": b.end_local.isoformat(),
                "value": _round(b.value),
                "quality": b.quality.value,
                "complete": b.complete,
            }
            for b in buckets
        ],
        "faults": fault_dicts(result.faults),
        "missing": [{"start": m.start.astimezone(tz).isoformat(), "points": list(m.point_ids)} for m in result.missing],
    }


def _as_table(result: ConsumptionResult, buckets: list[Bucket], by: str, tz: ZoneInfo, first: date, last: date) -> str:
    lines = [
        f"{result.point_id} ({result.resource}, {result.unit}) by {by}, {first} to {last} ({tz.key})",
        f"{'start':<22} {'end':<22} {'value':>14}  quality",
    ]
    for b in buckets:
        mark = "" if b.complete else "  (incomplete)"
        lines.append(
            f"{b.start_local:%Y-%m-%d %H:%M%z}".ljust(22)
            + f" {b.end_local:%Y-%m-%d %H:%M%z}".ljust(23)
            + f" {b.value:>14.3f}  {b.quality.value}{mark}"
        )
    if not buckets:
        lines.append("(no intervals in this period)")
    lines.append(f"total {result.total:.3f} {result.unit}")
    for fault in fault_dicts(result.faults):
        lines.append(f"fault {fault['point']} {fault['ts']} {fault['kind']}: {fault['message']}")
    if result.missing:
        lines.append(f"{len(result.missing)} slot(s) not computed: an input of the formula has no interval there")
    return "\n".join(lines)


def _round(value: float) -> float:
    # float noise such as 0.30000000000000004 is not worth showing; 1e-6 of a kWh or m3 is far below meter resolution
    return round(value, 6)
