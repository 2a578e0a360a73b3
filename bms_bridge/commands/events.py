"""`bms-bridge events SITE [--json] [--kind K] [--since DATE]`: what the service found (counter faults, ...)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, time
from typing import Any

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.store import Event, Store
from point_mapping.errors import SiteInvalid


def as_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "subject": event.subject,
        "severity": event.severity,
        "title": event.title,
        "started_at": event.started_at.isoformat(),
        "ended_at": event.ended_at.isoformat() if event.ended_at else None,
        "energy": event.energy,
        "energy_unit": event.energy_unit,
        "cost": event.cost,
        "currency": event.currency,
        "details": event.details,
    }


async def _events(db_url: str, kind: str | None, since: datetime | None) -> list[Event]:
    async with Store.open(db_url) as store:
        return await store.events(kind=kind, since=since)


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    since = None
    if args.since:
        try:
            since = datetime.combine(date.fromisoformat(args.since), time(0), site.model.site.zone)
        except ValueError:
            print(f"error: --since {args.since!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 1
    events = asyncio.run(_events(database_url(site, args.db), args.kind, since))
    if args.json:
        print(json.dumps([as_json(e) for e in events], indent=2))
        return 0
    zone = site.model.site.zone
    for event in events:
        start = event.started_at.astimezone(zone)
        print(f"{start:%Y-%m-%d %H:%M}  {event.severity:<8} {event.kind:<24} {event.subject:<24} {event.title}")
    print(f"{len(events)} events")
    return 0
