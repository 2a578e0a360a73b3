"""OPC UA server fixtures: a real server in the test process, independent clients as subprocesses."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio

from bms_bridge.exposure.points import ExposedPoint
from bms_bridge.opcua import OpcUaServer, OpcUaSettings
from tests.support.services import free_tcp_port

CLIENTS = Path(__file__).parent / "clients"
BIN = Path(sys.executable).parent
NS_URI = "urn:bms-bridge:test"
USERS = {"operator": "s3cret-pass"}
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def point(
    point_id: str,
    unit: str = "kWh",
    *,
    tenant: str = "IT-Co",
    meter: str = "M-A3-01",
    eu_range: tuple[float, float] | None = None,
    writable: bool = False,
    out_of_service: bool = False,
) -> ExposedPoint:
    return ExposedPoint(
        point_id=point_id,
        name=f"B-A.{tenant}.{meter}.{point_id}",
        description=f"{point_id} of meter {meter}",
        unit=unit,
        cumulative=unit in ("kWh", "m3"),
        bacnet_object="analog-input",
        bacnet_instance=abs(hash(point_id)) % 100_000,
        opcua_node_id=f"SiteA.B-A.{tenant}.{meter}.{point_id}",
        path=("SiteA", "B-A", tenant, meter),
        eu_range=eu_range,
        writable=writable,
        out_of_service=out_of_service,
    )


POINTS = [
    point("active-energy", "kWh"),
    point("active-power", "kW", eu_range=(0.0, 250.0)),
    point("water-volume", "m3", tenant="Common", meter="W-01"),
    point("stale-power", "kW", meter="M-A3-02"),
    point("offline-energy", "kWh", meter="M-A3-02"),
    point("offline-nan", "kWh", meter="M-A3-02"),
    point("never-read", "kWh", meter="M-A3-02"),
    point("retired", "kWh", meter="M-OLD", out_of_service=True),
    point("setpoint", "degC", meter="M-A3-01", writable=True),
]


@dataclass
class MemoryHistory:
    """The application's history callable, in memory; counts reads to prove nothing is cached."""

    samples: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    reads: int = 0

    async def read(
        self, point_id: str, start: datetime, end: datetime, limit: int | None
    ) -> list[tuple[datetime, float]]:
        self.reads += 1
        rows = self.samples.get(point_id, [])
        times = [moment for moment, _ in rows]
        selected = rows[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]
        return selected[:limit] if limit is not None else selected


def hourly_energy(hours: int) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(hours=h), 1000.0 + 2.5 * h) for h in range(hours)]


@dataclass
class Running:
    server: OpcUaServer
    url: str
    history: MemoryHistory


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def opcua() -> AsyncIterator[Running]:
    history = MemoryHistory({"active-energy": hourly_energy(48)})
    url = f"opc.tcp://127.0.0.1:{free_tcp_port()}"
    settings = OpcUaSettings(endpoint=url, namespace_uri=NS_URI, users=USERS)
    async with OpcUaServer(settings, POINTS, history=history.read) as server:
        yield Running(server, url, history)


async def run_client(*argv: str | Path, deadline: float = 20.0, stderr: bool = False) -> tuple[int, list[str]]:
    """Run a client process to completion, without blocking the loop the server runs in.

    Returns the exit code and the lines of stdout (followed by stderr's when asked).
    """
    process = await asyncio.create_subprocess_exec(
        *map(str, argv),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), deadline)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode not in (0, 1, 2):
        raise AssertionError(f"{argv[0]} exited {process.returncode}: {err.decode()[-2000:]}")
    lines = out.decode().splitlines() + (err.decode().splitlines() if stderr else [])
    return process.returncode or 0, lines


def json_lines(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


async def probe(url: str, *args: str, user: str | None = None, password: str | None = None) -> list[dict[str, Any]]:
    extra = ["--user", user, "--password", password or ""] if user else []
    _, lines = await run_client(sys.executable, CLIENTS / "asyncua_probe.py", url, *args, *extra)
    return json_lines(lines)


@contextlib.asynccontextmanager
async def client_process(*argv: str | Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A long-running client (subscriptions); killed by PID on exit so nothing is left behind."""
    process = await asyncio.create_subprocess_exec(
        *map(str, argv),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def read_line_until(process: asyncio.subprocess.Process, wanted: str, deadline: float = 15.0) -> list[str]:
    """Lines of stdout up to and including the first containing `wanted`; fails at the deadline."""
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None
    lines: list[str] = []

    async def collect() -> None:
        while True:
            raw = await stdout.readline()
            if not raw:
                err = await stderr.read()
                raise AssertionError(f"client ended before {wanted!r}: {lines} {err.decode()[-2000:]}")
            line = raw.decode().rstrip()
            lines.append(line)
            if wanted in line:
                return

    await asyncio.wait_for(collect(), deadline)
    return lines
