"""Readings into SQLite: the store's ReadingWriter vs bare sqlite3 executemany, side by side.

Baseline: sqlite3 with WAL + synchronous=NORMAL, the same WITHOUT ROWID table, executemany in batches
of 1,000 with one commit each: the fastest a Python writer gets. The store cases add SQLAlchemy Core,
aiosqlite's thread hop, and (for the writer) one queue put per reading.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.result import Result as BenchResult
from metering.readings import Reading
from metering.store import ReadingWriter, Store
from metering.store.timecodec import to_ms

ROWS = int(os.environ.get("BENCH_STORE_ROWS", "100000"))
BATCH = 1000
POINTS = 50  # like a floor of meters polled every minute


@dataclass
class Result:
    case: str
    rows: int
    seconds: float
    db_bytes: int


def make_readings(count: int) -> list[Reading]:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        Reading(f"em-{i % POINTS:03d}", t0 + timedelta(minutes=i // POINTS), 1000.0 + i * 0.01, source="bench")
        for i in range(count)
    ]


def db_size(path: Path) -> int:
    """Bytes the database needs once the WAL is folded back into the main file."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int(pages) * int(page_size)


def count_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])


def baseline(path: Path, readings: list[Reading]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE readings (point_id VARCHAR(200) NOT NULL, ts BIGINT NOT NULL, value FLOAT NOT NULL,"
        " quality VARCHAR(20) NOT NULL, source VARCHAR(200) NOT NULL, received_at BIGINT NOT NULL,"
        " PRIMARY KEY (point_id, ts)) WITHOUT ROWID"
    )
    conn.commit()
    sql = "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    started = time.perf_counter()
    received = to_ms(datetime.now(UTC))
    for i in range(0, len(readings), BATCH):
        rows = [
            (r.point_id, to_ms(r.ts), r.value, r.quality.value, r.source, received) for r in readings[i : i + BATCH]
        ]
        conn.executemany(sql, rows)
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def store_direct(path: Path, readings: list[Reading]) -> float:
    async with Store.open(f"sqlite:///{path}") as store:
        started = time.perf_counter()
        for i in range(0, len(readings), BATCH):
            await store.insert_readings(readings[i : i + BATCH])
        return time.perf_counter() - started


async def store_writer(path: Path, readings: list[Reading]) -> float:
    async with Store.open(f"sqlite:///{path}") as store:
        started = time.perf_counter()
        async with ReadingWriter(store, max_batch=BATCH, flush_interval=0.5, queue_size=10_000) as writer:
            for reading in readings:
                await writer.put(reading)
        return time.perf_counter() - started  # exit drained the queue: everything is committed


def run_case(name: str, folder: Path, readings: list[Reading], timed: Callable[[Path], float]) -> Result:
    path = folder / f"{name.split()[0]}.db"
    seconds = timed(path)
    rows = count_rows(path)
    if rows != len(readings):
        raise RuntimeError(f"{name}: stored {rows} rows of {len(readings)}")
    return Result(name, rows, seconds, db_size(path))


def print_table(results: list[Result]) -> None:
    base = results[0]
    print(f"{'case':<34} {'rows':>8} {'seconds':>8} {'rows/s':>10} {'vs baseline':>12} {'bytes/row':>10}")
    for r in results:
        speed = r.rows / r.seconds
        ratio = speed / (base.rows / base.seconds)
        print(
            f"{r.case:<34} {r.rows:>8,} {r.seconds:>8.3f} {speed:>10,.0f} {ratio:>11.2f}x {r.db_bytes / r.rows:>10.1f}"
        )


def main() -> list[BenchResult]:
    readings = make_readings(ROWS)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        folder = Path(tmp)
        results = [
            run_case("baseline sqlite3 executemany", folder, readings, lambda p: baseline(p, readings)),
            run_case(
                "store.insert_readings (Core)", folder, readings, lambda p: asyncio.run(store_direct(p, readings))
            ),
            run_case(
                "ReadingWriter.put per reading", folder, readings, lambda p: asyncio.run(store_writer(p, readings))
            ),
        ]
    print(f"{ROWS:,} readings of {POINTS} points into SQLite (WAL, synchronous=NORMAL), batches of {BATCH:,}")
    print_table(results)
    base, writer = results[0], results[-1]
    return [
        BenchResult.rate(
            "SQLite ingest, ReadingWriter vs sqlite3 executemany",
            writer.rows / writer.seconds,
            base.rows / base.seconds,
            "rows/s",
            at_least=0.8,
        ),
        BenchResult.at_most(
            "SQLite bytes per reading row", writer.db_bytes / writer.rows, 24, "B/row", base.db_bytes / base.rows
        ),
    ]
