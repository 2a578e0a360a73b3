"""`bms-bridge replace-meter SITE --meter ID --at TIME --old-final X --new-initial Y [--note TEXT]`.

Records a meter exchange done in the field (the alternative to `replacements:` in the meter's YAML), so
consumption across the swap is (old final − old previous) + (new current − new initial). Values are the
raw register readings of the two meters, as the technician writes them down.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from datetime import datetime

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.consumption import exchange_span, refresh_dirty
from metering.course_check import exchange_contradictions
from metering.exchanges import MeterExchange
from metering.store import ConsumptionStore, Store, StoreConflict
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


class _Contradicted(ValueError):
    """The exchange does not fit the stored readings; nothing was written."""


async def _record(site: LoadedSite, db_url: str, exchange: MeterExchange) -> bool:
    async with Store.open(db_url) as store:
        repo = ConsumptionStore(store)
        stored = await store.exchanges(exchange.meter_id)
        # the same exchange again, or another at the same time (the store refuses it): no check needed
        known = any(exchange.same_as(s) or s.ts == exchange.ts for s in stored)
        problems = [] if known else await exchange_contradictions(site, repo, exchange)
        if problems:
            raise _Contradicted("\n".join(problems))
        added = await store.add_exchange(exchange)
        if added:  # intervals follow the data: recompute the slots around the exchange now
            await repo.mark_dirty(exchange_span(site, exchange.meter_id, exchange))
            await refresh_dirty(site, repo)
        return added


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    if args.meter not in site.model.meter_by_id:
        print(f"error: unknown meter '{args.meter}'", file=sys.stderr)
        return 1
    try:
        at = datetime.fromisoformat(args.at)
    except ValueError:
        print(f"error: --at {args.at!r} is not an ISO 8601 time", file=sys.stderr)
        return 1
    if at.tzinfo is None:
        print("error: give --at with its UTC offset, e.g. 2026-03-04T10:30:00+01:00", file=sys.stderr)
        return 1
    if not (math.isfinite(args.old_final) and math.isfinite(args.new_initial)):
        print("error: register readings must be finite numbers (not nan or inf)", file=sys.stderr)
        return 1
    if args.old_final < 0 or args.new_initial < 0:
        print("error: register readings cannot be negative", file=sys.stderr)
        return 1
    exchange = MeterExchange(args.meter, at, args.old_final, args.new_initial, args.note, source="cli")
    try:
        added = asyncio.run(_record(site, database_url(site, args.db), exchange))
    except (StoreConflict, _Contradicted) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{'recorded' if added else 'already recorded'}: meter {args.meter} replaced at {at.isoformat()}")
    return 0
