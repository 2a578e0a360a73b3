"""`bms-bridge outbox SITE [--state S] [--json]`: statement versions on their way to the billing system;
`--requeue-dead [KEY ...]` sends dead ones again once the cause is fixed (docs/billing-delivery.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from billing_export.outbox import OutboxEntry, OutboxState
from billing_export.outbox.dead_letter import dead_letter_key
from billing_export.outbox.store import OutboxStore
from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.store import Store
from point_mapping.errors import SiteInvalid


def as_json(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "statement_id": entry.statement_id,
        "version": entry.version,
        "state": entry.state.value,
        "attempts": entry.attempts,
        "next_attempt_at": entry.next_attempt_at.isoformat(),
        "last_error": entry.last_error,
        "receipt": entry.receipt,
        "queued_at": entry.created_at.isoformat(),
        "delivered_at": entry.delivered_at.isoformat() if entry.delivered_at else None,
    }


async def _entries(db_url: str, state: OutboxState | None) -> list[OutboxEntry]:
    async with Store.open(db_url) as store:
        return await OutboxStore(store).entries(state)


async def _requeue(db_url: str, keys: list[str] | None) -> list[OutboxEntry]:
    now = datetime.now(UTC)
    async with Store.open(db_url) as store:
        revived = await OutboxStore(store).requeue_dead(now, keys)
        for entry in revived:  # the dead-letter condition has cleared: its event ends
            await store.end_event(dead_letter_key(entry), now)
        return revived


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    db_url = database_url(site, args.db)
    if args.requeue_dead is not None:
        keys = args.requeue_dead or None
        revived = asyncio.run(_requeue(db_url, keys))
        missing = sorted(set(keys or ()) - {e.key for e in revived})
        for entry in revived:
            print(f"{entry.key}: queued again (was dead: {entry.last_error})")
        if missing:
            print(f"error: not dead or unknown: {', '.join(missing)}", file=sys.stderr)
            return 1
        print(f"{len(revived)} statement versions queued again; the running service sends them")
        return 0
    entries = asyncio.run(_entries(db_url, OutboxState(args.state) if args.state else None))
    if args.json:
        print(json.dumps([as_json(e) for e in entries], indent=2))
        return 0
    zone = site.model.site.zone
    for entry in entries:
        if entry.state is OutboxState.DELIVERED and entry.delivered_at is not None:
            when = f"delivered {entry.delivered_at.astimezone(zone):%Y-%m-%d %H:%M}"
            note = json.dumps(entry.receipt, sort_keys=True) if entry.receipt else ""
        elif entry.state is OutboxState.PENDING:
            when = f"next try {entry.next_attempt_at.astimezone(zone):%Y-%m-%d %H:%M}"
            note = entry.last_error or ""
        else:
            when, note = "dead", entry.last_error or ""
        print(f"{entry.key:<40} {entry.state.value:<9} {entry.attempts:>3} tries  {when:<26} {note}")
    print(f"{len(entries)} statement versions")
    return 0
