"""Fixtures for the BACnet server tests: points, a running server, and clients in their own processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.exposure.points import ExposedPoint, PointStatus, PointValue
from tests.support.services import free_udp_port

CLIENTS = Path(__file__).parent / "clients"
REPO = Path(__file__).resolve().parents[2]
DEVICE_INSTANCE = 390_001


def point(point_id: str, kind: str, instance: int, unit: str, **extra: Any) -> ExposedPoint:
    return ExposedPoint(
        point_id=point_id,
        name=f"B-A.F3.M-A3-01.{point_id}",
        description=f"test point {point_id}",
        unit=unit,
        cumulative=kind in ("accumulator", "large-analog-value"),
        bacnet_object=kind,  # type: ignore[arg-type]
        bacnet_instance=instance,
        opcua_node_id=point_id,
        **extra,
    )


POWER = point("active-power", "analog-input", 1, "kW", cov_increment=0.5)
ENERGY = point("active-energy", "accumulator", 1, "kWh")
ENERGY_HR = point("active-energy-hr", "large-analog-value", 1, "kWh", cov_increment=0.001)
HEAT = point("heat-energy", "large-analog-value", 2, "GJ")
TENANT = point("tenant-consumption", "analog-value", 1, "kWh")
LEAK = point("leak", "binary-value", 1, "")
SPARE = point("spare-meter-power", "analog-input", 2, "W", out_of_service=True)
POINTS = [POWER, ENERGY, ENERGY_HR, HEAT, TENANT, LEAK, SPARE]


def reading(p: ExposedPoint, value: float, status: PointStatus = PointStatus.OK) -> PointValue:
    return PointValue(point_id=p.point_id, value=value, timestamp=datetime.now(UTC), status=status)


def objref(p: ExposedPoint) -> str:
    return f"{p.bacnet_object},{p.bacnet_instance}"


class ClientProcess:
    """A client running in its own process, printing JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []

    async def next(self, within: float = 15.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), within)
        if not line:
            stderr = await self._stderr()
            raise AssertionError(f"client exited (rc={self.proc.returncode}) after {self.lines}: {stderr}")
        data: dict[str, Any] = json.loads(line)
        assert data.get("event") != "crash", data
        self.lines.append(data)
        return data

    async def until(self, predicate: Callable[[dict[str, Any]], bool], within: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            data = await self.next(max(0.01, deadline - time.monotonic()))
            if predicate(data):
                return data

    async def rest(self, within: float = 20.0) -> list[dict[str, Any]]:
        """All remaining lines until the client exits; fails if it does not exit in time."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), max(0.01, deadline - time.monotonic()))
            if not line:
                break
            data = json.loads(line)
            assert data.get("event") != "crash", (data, await self._stderr())
            out.append(data)
        rc = await asyncio.wait_for(self.proc.wait(), max(0.01, deadline - time.monotonic()))
        assert rc == 0, await self._stderr()
        self.lines.extend(out)
        return out

    async def _stderr(self) -> str:
        if self.proc.stderr is None:
            return ""
        try:
            return (await asyncio.wait_for(self.proc.stderr.read(), 2)).decode(errors="replace")[-3000:]
        except TimeoutError:
            return "<stderr not available>"

    async def resume(self) -> None:
        """Continue a client waiting in a "pause" step."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
def settings() -> BacnetDeviceSettings:
    return BacnetDeviceSettings(
        device_instance=DEVICE_INSTANCE,
        device_name="bms-bridge-test",
        address=f"127.0.0.1/8:{free_udp_port()}",
        description="test gateway",
        location="lab",
    )


@pytest.fixture
async def server(settings: BacnetDeviceSettings) -> AsyncIterator[BacnetServer]:
    async with BacnetServer(settings, POINTS) as srv:
        yield srv


@pytest.fixture
async def spawn(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start client processes; every one is killed at teardown whatever happened."""
    procs: list[ClientProcess] = []

    async def start(script: str, *args: str, env: dict[str, str] | None = None) -> ClientProcess:
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO), **(env or {})}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CLIENTS / script),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=full_env,
            cwd=str(tmp_path),  # BAC0 reads .env from its CWD (docs/testing-peers.md)
        )
        client = ClientProcess(proc)
        procs.append(client)
        return client

    try:
        yield start
    finally:
        for client in procs:
            await client.kill()


@pytest.fixture
def bacpypes3_client(spawn: Callable[..., Any], settings: BacnetDeviceSettings) -> Callable[..., Any]:
    """Run the bacpypes3 client with a list of steps against the server under test."""

    async def run(steps: list[dict[str, Any]]) -> ClientProcess:
        client: ClientProcess = await spawn(
            "bacpypes3_client.py",
            "--local",
            f"127.0.0.1/8:{free_udp_port()}",
            "--server",
            settings.unicast_address,
            json.dumps(steps),
        )
        await client.until(lambda d: d.get("event") == "ready")
        return client

    return run
