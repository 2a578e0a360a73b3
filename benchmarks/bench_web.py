"""A year of one point's 15-minute data as a chart: the API against a plain SQL select of the same rows.

Baseline: sqlite3 selecting the 35,040 interval rows of the point (the least any chart costs). The API
case is a real HTTP GET of /api/v1/points/{id}/series over loopback with a bearer token: scope check,
select, min/max downsampling to 2,000 points, local times, JSON. The CSV case sends every row.
Goal: the chart request within 100 ms on this machine. `bms-bridge run` calls gc.freeze() once the
service is up, and so does this benchmark (BENCH_WEB_NO_FREEZE=1 shows the difference).
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from benchmarks.result import Result as BenchResult
from bms_bridge.sites import open_site
from bms_bridge.web.app import create_app
from bms_bridge.web.roles import Role
from bms_bridge.web.users import UserStore
from metering.readings import Interval
from metering.store import Store
from metering.store.timecodec import to_ms

MINIMAL_SITE = Path(__file__).resolve().parents[1] / "tests" / "point_mapping" / "sites" / "minimal"
RUNS = int(os.environ.get("BENCH_WEB_RUNS", "20"))
SLOTS = 365 * 96
START = datetime(2025, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)  # the site's local year
END = datetime(2026, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
POINT = "a1-01.energy"
GOAL_MS = 100.0  # the chart request (docstring)


def baseline(db: Path) -> float:
    with sqlite3.connect(db) as conn:
        started = time.perf_counter()
        rows = conn.execute(
            "SELECT start, value, quality FROM intervals WHERE point_id = ? AND start >= ? AND start < ?"
            " ORDER BY start",
            (POINT, to_ms(START), to_ms(END)),
        ).fetchall()
        elapsed = time.perf_counter() - started
    if len(rows) != SLOTS:
        raise RuntimeError(f"baseline read {len(rows)} rows")
    return elapsed


async def timed_get(http: aiohttp.ClientSession, url: str, check: Callable[[bytes], None]) -> float:
    started = time.perf_counter()
    async with http.get(url) as response:
        body = await response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{url}: {response.status} {body[:200]!r}")
    check(body)
    return elapsed


def median_ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000


async def run(folder: Path) -> list[BenchResult]:
    site = open_site(folder / "site")
    db = folder / "bench.db"
    async with Store.open(f"sqlite:///{db}") as store:
        await store.upsert_intervals(
            Interval(POINT, START + timedelta(minutes=15) * i, 1.0 + (i % 96) / 10) for i in range(SLOTS)
        )
        users = UserStore(store.engine)
        token = await users.create_token(await users.add("bench", "bench-password", Role.ENGINEER))
        runner = web.AppRunner(create_app(site, store))
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        port = runner.addresses[0][1]
        if not os.environ.get("BENCH_WEB_NO_FREEZE"):
            gc.freeze()  # as `bms-bridge run` does once the service is up
        base = f"http://127.0.0.1:{port}/api/v1/points/{POINT}/series?from=2025-01-01&to=2025-12-31"
        headers = {"Authorization": f"Bearer {token}"}
        cases: list[tuple[str, Callable[[], Awaitable[float]]]] = []
        async with aiohttp.ClientSession(headers=headers) as http:

            def json_ok(body: bytes) -> None:
                if b'"stored": 35040' not in body:
                    raise RuntimeError("the chart did not cover the year")

            def csv_ok(body: bytes) -> None:
                if body.count(b"\n") != SLOTS + 1:
                    raise RuntimeError("the CSV did not hold every row")

            cases = [
                ("API chart JSON (2,000 points)", lambda: timed_get(http, base, json_ok)),
                ("API CSV (every row)", lambda: timed_get(http, base + "&format=csv", csv_ok)),
            ]
            results = [("plain SQL select (sqlite3)", [baseline(db) for _ in range(RUNS)])]
            for name, case in cases:
                await case()  # warm up: first connection, statement cache
                results.append((name, [await case() for _ in range(RUNS)]))
        await runner.cleanup()
    base_median, _ = median_ms(results[0][1])
    print(f"one year of 15-minute intervals ({SLOTS:,} rows), {RUNS} runs each")
    print(f"{'case':<32} {'median ms':>10} {'p90 ms':>8} {'vs baseline':>12}")
    for name, samples in results:
        median, p90 = median_ms(samples)
        print(f"{name:<32} {median:>10.1f} {p90:>8.1f} {median / base_median:>11.1f}x")
    chart_median, _ = median_ms(results[1][1])
    return [
        BenchResult.at_most(
            "API latency, a year of one point's data (chart, median), vs SQL select",
            chart_median,
            GOAL_MS,
            "ms",
            baseline=base_median,
        )
    ]


def main() -> list[BenchResult]:
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        shutil.copytree(MINIMAL_SITE, folder / "site")
        return asyncio.run(run(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
