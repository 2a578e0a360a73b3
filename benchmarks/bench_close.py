"""Closing a month against a plain SQL GROUP BY over the same rows (issue 8, item 11).

A generated site of 1,000 metering points (100 tenants with 10 points each, a day/night tariff with
public holidays, a standing charge and VAT) and a month of 15-minute intervals for each, in a real
SQLite file. Ours: `billing_export.close.close_period` - every interval counted (the store adds
them up exactly per point and span of constant tariff zone, version and price, in SQL), priced by
tariff zone in local time, registers and exchanges read, statement lines rounded once. Baseline: one SQL statement
summing the same rows per point (`SELECT point_id, SUM(value) ... GROUP BY point_id`), which knows
nothing of zones, prices or contracts. Same database, same run. Goal: ours within 3x of the baseline.

BENCH_CLOSE_POINTS (default 1000) and BENCH_CLOSE_RUNS (default 2, best of) change the size.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.result import Result as BenchResult
from billing_export.close import close_period
from billing_export.period import Period
from billing_export.source import StoreIntervalSource
from bms_bridge.sites import open_site
from metering.readings import Interval
from metering.store import Store
from metering.store.timecodec import to_ms

POINTS = int(os.environ.get("BENCH_CLOSE_POINTS", "1000"))
RUNS = int(os.environ.get("BENCH_CLOSE_RUNS", "2"))
PER_TENANT = 10
GOAL_RATIO = 3.0  # the close within 3x the time of plain SQL sums of the same rows (docs/performance.md)
PERIOD = "2025-10"  # 31 days with the autumn DST change (745 hours) and a public holiday (3 Oct)
ZONE = "Europe/Berlin"


def site_yaml(points: int) -> str:
    tenants = (points + PER_TENANT - 1) // PER_TENANT
    lines = [
        "site: {id: bench, name: Bench, timezone: Europe/Berlin, currency: EUR,"
        " holidays_country: DE, holidays_subdivision: HH}",
        "buildings:",
        "  - id: B",
        "    name: Building B",
        "    floors:",
        "      - id: B1",
        "        name: Floor 1",
        "        spaces:",
    ]
    lines += [f"          - {{id: S{t:03d}, name: Unit {t}, area_m2: 100}}" for t in range(tenants)]
    lines.append("devices:")
    for p in range(points):
        port, unit = 15100 + p // 200, p % 200 + 1
        lines.append(
            f"  - {{id: d{p:04d}, connection: {{kind: modbus-tcp, host: 127.0.0.1, port: {port}, unit: {unit}}},"
            " profile: eastron-sdm630}"
        )
    lines.append("meters:")
    for p in range(points):
        space = f"S{p // PER_TENANT:03d}"
        meter = f"{{id: M{p:04d}, device: d{p:04d}, resource: electricity, space: {space}, serial: SN{p:04d}}}"
        lines.append(f"  - {meter}")
    lines.append("points:")
    lines += [
        f"  - {{id: p{p:04d}, meter: M{p:04d}, register: active_energy_import, unit: kWh}}" for p in range(points)
    ]
    lines.append("tenants:")
    lines += [f"  - {{id: T{t:03d}, name: Tenant {t}, billing_account: ACC-{t:03d}}}" for t in range(tenants)]
    lines.append("contracts:")
    for t in range(tenants):
        members = range(t * PER_TENANT, min(points, (t + 1) * PER_TENANT))
        refs = ", ".join(f"{{point: p{p:04d}}}" for p in members)
        lines.append(
            f"  - {{id: C{t:03d}, tenant: T{t:03d}, start: 2024-01-01, spaces: [S{t:03d}], points: [{refs}],"
            " tariffs: {electricity: el}}"
        )
    lines += [
        "tariffs:",
        "  - id: el",
        "    resource: electricity",
        "    unit: kWh",
        "    standing_charge_per_month: 12.50",
        "    vat_percent: 19",
        "    zones:",
        "      - {id: day, price: 0.3120, windows: [{days: [weekdays], from: '06:00', to: '22:00'}]}",
        "      - {id: night, price: 0.2210}",
    ]
    return "\n".join(lines) + "\n"


def month_intervals(point: int, start: datetime, end: datetime) -> list[Interval]:
    found, at, n = [], start, 0
    while at < end:
        value = 0.05 + ((point * 31 + n * 7) % 40) / 100  # 0.05-0.44 kWh a quarter hour
        found.append(Interval(f"p{point:04d}", at, value))
        at += timedelta(minutes=15)
        n += 1
    return found


async def timed(run: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best, result


async def bench(folder: Path) -> BenchResult:
    (folder / "site.yaml").write_text(site_yaml(POINTS))
    site = open_site(folder).model
    period = Period.parse(PERIOD, site.site.zone)
    url = f"sqlite:///{folder / 'bench.db'}"
    async with Store.open(url) as store:
        started = time.perf_counter()
        for p in range(POINTS):
            await store.upsert_intervals(month_intervals(p, period.start, period.end))
        loaded = time.perf_counter() - started
        (rows,) = (await store.fetch(text("SELECT COUNT(*) FROM intervals")))[0]

        async def group_by() -> Decimal:
            query = text(
                "SELECT point_id, SUM(value) AS kwh FROM intervals WHERE start >= :a AND start < :b GROUP BY point_id"
            ).bindparams(a=to_ms(period.start), b=to_ms(period.end))
            result = await store.fetch(query)
            return sum((Decimal(repr(r.kwh)) for r in result), Decimal(0))

        async def close() -> Decimal:
            result = await close_period(site, period, StoreIntervalSource(store))
            return sum((s.net for s in result.statements), Decimal(0))

        sql_s, sql_kwh = await timed(group_by)
        ours_s, ours_net = await timed(close)
    print(f"{POINTS:,} points x {rows // max(POINTS, 1):,} quarter hours of {PERIOD} = {rows:,} rows")
    print(f"(loading them took {loaded:.1f} s); best of {RUNS} runs")
    print(f"{'case':<52} {'seconds':>8} {'rows/s':>12} {'ratio':>7}  result")
    print(f"{'plain SQL: SUM(value) GROUP BY point_id':<52} {sql_s:>8.2f} {rows / sql_s:>12,.0f} {1.0:>7.2f}  "
          f"{sql_kwh:,.3f} kWh")  # fmt: skip
    print(f"{'ours: close_period (zones, prices, rounded lines)':<52} {ours_s:>8.2f} {rows / ours_s:>12,.0f} "
          f"{ours_s / sql_s:>7.2f}  {ours_net:,.2f} EUR net")  # fmt: skip
    print(f"(ratio: seconds relative to the SQL baseline; the goal is at most {GOAL_RATIO:.2f})")
    return BenchResult.time(
        f"month close, {POINTS:,} points x {PERIOD}, vs plain SQL sums", ours_s, sql_s, "s", at_most=GOAL_RATIO
    )


def main() -> list[BenchResult]:
    with tempfile.TemporaryDirectory(prefix="bench-close-") as folder:
        return [asyncio.run(bench(Path(folder)))]


if __name__ == "__main__":
    main()
