"""Start-up checks, restart, BBMD / foreign-device registration, and config errors."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace

import pytest

from bms_bridge.bacnet import BacnetBindError, BacnetDeviceSettings, BacnetServer, ForeignDeviceSettings
from tests.bacnet.conftest import POINTS, POWER, point, reading
from tests.support.services import free_udp_port


async def test_port_taken_fails_loudly(settings: BacnetDeviceSettings) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind((settings.host, settings.port))
        with pytest.raises(BacnetBindError, match="cannot bind"):
            async with BacnetServer(settings, POINTS):
                pass


async def test_address_not_on_this_host_fails_loudly(settings: BacnetDeviceSettings) -> None:
    elsewhere = replace(settings, address="192.0.2.10/24:47808")  # TEST-NET-1, never local; nothing is sent
    with pytest.raises(BacnetBindError):
        async with BacnetServer(elsewhere, POINTS):
            pass


async def test_bacpypes3_silent_retry_is_caught(
    settings: BacnetDeviceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # skip our pre-check so bacpypes3 meets the taken port and retries forever: the timeout must fire
    monkeypatch.setattr(BacnetServer, "_check_port_free", lambda self: None)
    quick = replace(settings, bind_timeout=0.5)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind((quick.host, quick.port))
        started = time.monotonic()
        with pytest.raises(BacnetBindError, match="did not bind"):
            async with BacnetServer(quick, POINTS):
                pass
        assert time.monotonic() - started < 3
    await asyncio.sleep(0)  # the cancelled retry tasks finish
    leftovers = [t for t in asyncio.all_tasks() if "retrying_create_datagram_endpoint" in repr(t)]
    assert not [t for t in leftovers if not t.done()]


async def test_restart_serves_the_same_points(settings: BacnetDeviceSettings) -> None:
    server = BacnetServer(settings, POINTS)
    async with server:
        server.update(reading(POWER, 1.0))
    assert not server.running
    async with server:  # the port is free again and every point is back
        server.update(reading(POWER, 2.0))
        assert {p.point_id for p in server.points} == {p.point_id for p in POINTS}


def test_duplicates_fail_loudly(settings: BacnetDeviceSettings) -> None:
    with pytest.raises(ValueError, match="object name"):
        BacnetServer(settings, [POWER, replace(POWER, point_id="other", bacnet_instance=99)])
    with pytest.raises(ValueError, match="analog-input,1"):
        BacnetServer(settings, [POWER, replace(POWER, point_id="other", name="other")])
    with pytest.raises(ValueError, match="already exposed"):
        BacnetServer(settings, [POWER, POWER])


async def test_duplicates_after_start_fail_loudly(settings: BacnetDeviceSettings) -> None:
    async with BacnetServer(settings, POINTS) as server:
        with pytest.raises(ValueError):
            server.add_object(point("dup", "analog-input", POWER.bacnet_instance, "kW"))


async def test_foreign_device_registers_with_bbmd() -> None:
    bbmd_port, fd_port = free_udp_port(), free_udp_port()
    bbmd_settings = BacnetDeviceSettings(
        device_instance=390_100, device_name="bbmd", address=f"127.0.0.1/8:{bbmd_port}", bbmd_peers=()
    )
    fd_settings = BacnetDeviceSettings(
        device_instance=390_101,
        device_name="foreign",
        address=f"127.0.0.1/8:{fd_port}",
        foreign_device=ForeignDeviceSettings(bbmd_address=f"127.0.0.1:{bbmd_port}", ttl_seconds=30),
    )
    async with BacnetServer(bbmd_settings) as bbmd, BacnetServer(fd_settings, POINTS) as fd:
        deadline = time.monotonic() + 5
        while not (fd.foreign_device_registered and bbmd.foreign_device_table()):
            assert time.monotonic() < deadline, "foreign-device registration did not complete"
            await asyncio.sleep(0.02)
        assert bbmd.foreign_device_table() == [f"127.0.0.1:{fd_port}"]
    assert not fd.foreign_device_registered
