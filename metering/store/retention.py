"""Retention of raw readings: older than N days, and only where billing no longer needs them.

A reading may go only when all of these hold:
- it is older than the cut-off (now - N days);
- it lies inside a frozen (closed) billing period: nothing in an open month, nor before the first
  closed one, is ever deleted, so every span still to be billed keeps its readings;
- it is neither the first nor the last reading of its point in that period: the last one is the
  opening register of the period after it (maybe not closed yet), the first the closing register
  of the one before (which may be open, e.g. months closed out of order);
- its point has no dirty span (readings not yet recomputed into intervals keep their context).
Intervals, corrections and roll-ups are never touched: consumption stays as billed and charted.
On PostgreSQL, a month partition wholly past the cut-off is rewritten instead (pg_retention.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import text

from metering.store import schema as t
from metering.store.consumption_store import FROZEN
from metering.store.pg_retention import rewrite_months
from metering.store.store import Store
from metering.store.timecodec import to_ms

log = logging.getLogger(__name__)

# per point, the period's first and last reading stay (index lookups on the (point, ts) key)
_PRUNE = text(
    "DELETE FROM readings WHERE ts >= :lo AND ts < :upto"
    " AND point NOT IN (SELECT k.id FROM point_keys k JOIN interval_dirty d ON d.point_id = k.key)"
    " AND ts > (SELECT min(b.ts) FROM readings b WHERE b.point = readings.point AND b.ts >= :lo AND b.ts < :hi)"
    " AND ts < (SELECT max(b.ts) FROM readings b WHERE b.point = readings.point AND b.ts >= :lo AND b.ts < :hi)"
)


async def prune_readings(store: Store, keep_days: int, now: datetime) -> int:
    """Delete the raw readings retention allows (see above); how many went. One transaction per period."""
    cutoff = to_ms(now - timedelta(days=keep_days))
    c = t.billing_periods.c
    periods = await store.fetch(
        t.billing_periods.select()
        .with_only_columns(c.period, c.start, c.end)
        .where(c.status == FROZEN, c.start.is_not(None), c.start < cutoff)
        .order_by(c.start)
    )
    deleted = 0
    if store.engine.dialect.name == "postgresql":  # whole months by partition first (pg_retention.py)
        deleted, months = await rewrite_months(store, [(p.start, p.end) for p in periods], cutoff)
        if months:
            log.info("retention: rewrote %d month partition(s) (%s), %d readings deleted", len(months),
                     ", ".join(months), deleted)  # fmt: skip
    for period in periods:
        async with store.write() as conn:
            result = await conn.execute(_PRUNE, {"lo": period.start, "hi": period.end, "upto": min(period.end, cutoff)})
        deleted += max(int(result.rowcount or 0), 0)
    if deleted:
        log.info("retention: deleted %d raw readings older than %d days in closed billing periods", deleted, keep_days)
    return deleted
