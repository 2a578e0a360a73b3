"""`bms-bridge events SITE [--json] [--kind K] [--since DATE]`: what the service found (counter faults, HVAC
conflicts, anomalies, ...); `--ack ID --by WHO [--comment TEXT]` acknowledges one (it stays open until it
clears). Listing first runs the anomaly rules over the stored intervals, up to the last stored reading."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.events import Acknowledgement
from metering.store import Event, Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


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
        "cost_exact": str(event.cost_exact) if event.cost_exact is not None else None,
        "waste": event.details.get("waste", []),  # per resource, each at its own tariff
        "equipment": event.equipment,
        "zone": event.zone,
        "tenants": list(event.tenants),
        "evidence": [sample.as_json() for sample in event.evidence],
        "acknowledged": (
            {
                "by": event.acknowledgement.by,
                "at": event.acknowledgement.at.isoformat(),
                "comment": event.acknowledgement.comment,
            }
            if event.acknowledgement
            else None
        ),
        "details": event.details,
    }


async def _events(site: LoadedSite, db_url: str, kind: str | None, since: datetime | None) -> list[Event]:
    async with Store.open(db_url) as store:
        await _refresh_anomalies(site, store)
        return await store.events(kind=kind, since=since)


async def _refresh_anomalies(site: LoadedSite, store: Store) -> None:
    """Judge the last `anomalies.lookback` up to the last stored reading (a copied database is not silent)."""
    span = await store.reading_span()
    if span is None or not site.model.anomalies.enabled:
        return
    from bms_bridge.anomalies import refresh_anomalies

    now = min(datetime.now(UTC), span[1] + timedelta(minutes=15))
    await refresh_anomalies(site, store, now - site.model.anomalies.lookback, now)


async def _acknowledge(db_url: str, event_id: int, ack: Acknowledgement) -> bool:
    async with Store.open(db_url) as store:
        return await store.acknowledge_event(event_id, ack)


def _ack(args: argparse.Namespace, db_url: str) -> int:
    if not args.by or not args.by.strip():
        print("error: --ack needs --by WHO", file=sys.stderr)
        return 2
    ack = Acknowledgement(args.by.strip(), datetime.now(UTC), args.comment)
    if not asyncio.run(_acknowledge(db_url, args.ack, ack)):
        print(f"error: there is no event {args.ack}", file=sys.stderr)
        return 1
    print(f"event {args.ack} acknowledged by {ack.by}")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    if args.ack is not None:
        return _ack(args, database_url(site, args.db))
    since = None
    if args.since:
        try:
            since = datetime.combine(date.fromisoformat(args.since), time(0), site.model.site.zone)
        except ValueError:
            print(f"error: --since {args.since!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 1
    events = asyncio.run(_events(site, database_url(site, args.db), args.kind, since))
    if args.json:
        print(json.dumps([as_json(e) for e in events], indent=2))
        return 0
    zone = site.model.site.zone
    for event in events:
        start = event.started_at.astimezone(zone)
        parts = event.details.get("waste") or []
        if parts:
            waste = "  " + ", ".join(f"{p['resource']} {p['energy']:,.0f} {p['unit']}" for p in parts)
        else:
            waste = f"  {event.energy:,.0f} {event.energy_unit}" if event.energy is not None else ""
        cost = f" {event.cost_exact or event.cost} {event.currency}" if event.cost is not None else ""
        ack = f"  [ack {event.acknowledgement.by}]" if event.acknowledgement else ""
        open_ = "" if event.ended_at else "  (open)"
        print(
            f"{event.id:>5} {start:%Y-%m-%d %H:%M}  {event.severity:<8} {event.kind:<24} {event.subject:<24} "
            f"{event.title}{waste}{cost}{open_}{ack}"
        )
    print(f"{len(events)} events")
    return 0
