"""Peers for the BMS client tests: the simulated BMS and a BAC0 device, each in a process of its own."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.commands.demo import DEMO_SITE
from bms_bridge.sites import open_site
from point_mapping.model import SiteModel
from point_mapping.model.bms import BmsPoint
from tests.support.services import free_udp_port

PEERS = Path(__file__).resolve().parent / "peers"


class Peer:
    def __init__(self, proc: asyncio.subprocess.Process, address: str) -> None:
        self.proc, self.address = proc, address

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@asynccontextmanager
async def _peer(args: list[str], address: str, cwd: Path, env: dict[str, str] | None = None) -> AsyncIterator[Peer]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(cwd),
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    peer = Peer(proc, address)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line.startswith(b"READY"):
            err = await proc.stderr.read() if proc.stderr else b""
            raise RuntimeError(f"peer did not start: {line!r} {err.decode()[-2000:]}")
        yield peer
    finally:
        await peer.kill()


@pytest.fixture
def sim_bms(tmp_path: Path) -> Callable[..., Any]:
    """Start the demo's simulated BMS on a free port: `async with sim_bms("--delay", "1") as peer:`."""

    def start(*options: str) -> Any:
        address = f"127.0.0.1:{free_udp_port()}"
        args = ["-m", "bms_bridge.simulate.bms_device", str(DEMO_SITE), "--address", address, *options]
        return _peer(args, address, Path.cwd())

    return start


@pytest.fixture
def bac0_device(tmp_path: Path) -> Callable[..., Any]:
    """Start the BAC0 device (HOME and CWD in a temp dir: BAC0 writes ~/.BAC0 and reads .env)."""

    def start(instance: int, *options: str) -> Any:
        port = free_udp_port()
        args = [str(PEERS / "bac0_device.py"), "--port", str(port), "--device", str(instance), *options]
        return _peer(args, f"127.0.0.1:{port}", tmp_path, {"HOME": str(tmp_path)})

    return start


def demo_site(address: str, **device: Any) -> SiteModel:
    site = open_site(DEMO_SITE).model
    bms = site.bms_devices[0].model_copy(update={"address": address, **device})
    return site.model_copy(update={"bms_devices": [bms]})


def bac0_site(address: str, instance: int, values: int, **device: Any) -> SiteModel:
    site = open_site(DEMO_SITE).model
    bms = site.bms_devices[0].model_copy(update={"address": address, "device_instance": instance, **device})
    points = [
        BmsPoint(id=f"av-{i}", device=bms.id, object=f"analog-value,{i}", role="supply-air-setpoint", equipment="x")
        for i in range(1, values + 1)
    ]
    points.append(BmsPoint(id="fan", device=bms.id, object="binary-value,1", role="fan-status", equipment="x"))
    points.append(
        BmsPoint(id="mode", device=bms.id, object="multi-state-value,1", role="operating-mode", equipment="x")
    )
    return site.model_copy(update={"bms_devices": [bms], "bms_points": points})


def client_address() -> str:
    return f"127.0.0.1/8:{free_udp_port()}"
