"""One site's bridge process writing its readings and intervals to a shared PostgreSQL database.

`python -m tests.store.site_process URL SCHEMA SITE COUNT`: COUNT readings of 10 points, one a
minute from 2026-12-31 22:00 UTC (two months without a partition yet, made by both at once), through the
ReadingWriter; then the first half again (duplicates, refused by the idempotent path); then one
interval per reading hour. Prints the rows inserted and the duplicates as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

from metering.readings import Interval, Reading
from metering.store import ReadingWriter, Store

START = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
NOW = datetime(2026, 9, 15, tzinfo=UTC)  # partitions made ahead up to November: December and January on demand
POINTS = 10


def readings(site: str, count: int) -> list[Reading]:
    return [
        Reading(f"{site}.em-{i % POINTS}", START + timedelta(minutes=i // POINTS), float(i), source=f"modbus:{site}")
        for i in range(count)
    ]


async def main(url: str, schema: str, site: str, count: int) -> None:
    rows = readings(site, count)
    async with Store.open(url, schema=schema, clock=lambda: NOW) as store:
        async with ReadingWriter(store, max_batch=500) as writer:
            await writer.put_many(rows)
            await writer.put_many(rows[: count // 2])
        hours = sorted({r.ts.replace(minute=0) for r in rows})
        await store.upsert_intervals(Interval(f"{site}.em-{p}", h, 1.0) for h in hours for p in range(POINTS))
    print(json.dumps({"written": writer.written, "duplicates": writer.duplicates}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
