"""What the BMS is told about a device's communication, on the minimal site with its meters dead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bms_bridge.exposure.points import PointStatus
from bms_bridge.service import Service
from bms_bridge.sites import open_site
from metering.health import DeviceHealth
from metering.store import Store
from tests.support.services import free_tcp_port


async def test_comm_failure_reaches_the_bms_even_when_health_cannot_be_stored(
    site_dir: Path, edit: Callable[[str, str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # nothing listens on these ports: every Modbus device is dead
    edit("devices.yaml", "port: 15020", f"port: {free_tcp_port()}")
    edit("devices.yaml", "port: 15022", f"port: {free_tcp_port()}")

    async def failing_save(self: Store, health: DeviceHealth) -> None:
        raise OSError("disk full")  # a database fault a real peer cannot be made to produce here

    monkeypatch.setattr(Store, "save_health", failing_save)
    service = Service(open_site(site_dir), f"sqlite:///{site_dir / 'state.db'}")
    async with service.running():
        feed = service.feed
        assert feed is not None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            value = feed.value_of("main.energy")
            if value is not None and value.status is PointStatus.COMM_FAILURE:
                break
            await asyncio.sleep(0.05)
        value = feed.value_of("main.energy")
        assert value is not None and value.status is PointStatus.COMM_FAILURE
