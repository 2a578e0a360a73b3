"""BMS client benchmark: points per second read by our client's RPM path against a bare bacpypes3 RPM loop.

Run: `python -m benchmarks bms_client` (about 20-40 s). One bare-bacpypes3 controller with `POINTS`
analog values runs in a process of its own on a loopback port (`benchmarks/bacnet_device.py`). In the same
run, against that same device:

- **bare loop**: a bacpypes3 `Application` calling `read_property_multiple` for `PER_REQUEST` present
  values at a time, one request after the other, and nothing else;
- **ours, 1 in flight**: `BmsClient.poll_once()` — chunking from the device's limits, per-device request
  slots, timeouts, decoding to typed `TrendSample`s, health — with `max_requests_in_flight: 1`, the same
  request pattern as the bare loop;
- **ours, default**: the same with the default cap of requests in flight per device (2).

Both sides ask for the same number of properties per request. The ratio measured side by side is the
figure to compare; absolute numbers move from run to run (2 shared cores, loopback UDP).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bacpypes3.app import Application
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from benchmarks.result import Result as BenchResult
from bms_bridge.bms_client.client import BmsClient
from bms_bridge.commands.demo import DEMO_SITE
from bms_bridge.sites import open_site
from point_mapping.model import SiteModel
from point_mapping.model.bms import BmsDevice, BmsPoint

POINTS = int(os.environ.get("BENCH_BMS_POINTS", "500"))
PASSES = int(os.environ.get("BENCH_BMS_PASSES", "4"))
PER_REQUEST = 25  # the YAML default max_properties_per_request
DEVICE_INSTANCE = 3100


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _site(address: str, in_flight: int) -> SiteModel:
    """The demo site with its BMS replaced by the bench controller and its POINTS analog values."""
    site = open_site(DEMO_SITE).model
    device = BmsDevice(
        id="bench", address=address, device_instance=DEVICE_INSTANCE, max_properties_per_request=PER_REQUEST,
        max_requests_in_flight=in_flight, cov=False,
    )  # fmt: skip
    points = [
        BmsPoint(id=f"bench.av{i}", device="bench", object=f"analog-value,{i}", role="zone-temperature", equipment="b")
        for i in range(1, POINTS + 1)
    ]
    return site.model_copy(update={"bms_devices": [device], "bms_points": points, "hvac_equipment": []})


async def _best(run: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    await run()  # warm-up: the device's limits, ARP-free loopback, caches
    best, count = float("inf"), 0
    for _ in range(PASSES):
        started = time.perf_counter()
        count = await run()
        best = min(best, time.perf_counter() - started)
    return best, count


async def _bare(address: str) -> tuple[float, int]:
    port = _free_udp_port()
    device = DeviceObject(objectIdentifier=("device", 3999), objectName="bare client", vendorIdentifier=999)
    np = NetworkPortObject(f"127.0.0.1/8:{port}", objectIdentifier=("network-port", 1), objectName="NP-1")
    app: Any = Application.from_object_list([device, np])
    target = Address(address)
    ids = [ObjectIdentifier(("analog-value", i)) for i in range(1, POINTS + 1)]

    async def one_pass() -> int:
        values = 0
        for start in range(0, len(ids), PER_REQUEST):
            request: list[Any] = []
            for oid in ids[start : start + PER_REQUEST]:
                request += [oid, ["present-value"]]
            values += len(await app.read_property_multiple(target, request))
        return values

    try:
        return await _best(one_pass)
    finally:
        app.close()


async def _ours(address: str, in_flight: int) -> tuple[float, int]:
    client = BmsClient(_site(address, in_flight), f"127.0.0.1/8:{_free_udp_port()}", device_instance=3998)
    async with client:

        async def one_pass() -> int:
            return len(await client.poll_once())

        return await _best(one_pass)


async def _run(address: str) -> list[tuple[str, float, int]]:
    rows = [("bare bacpypes3 RPM loop", *await _bare(address))]
    rows.append(("ours: BmsClient.poll_once, 1 in flight", *await _ours(address, 1)))
    rows.append(("ours: BmsClient.poll_once, 2 in flight", *await _ours(address, 2)))
    return rows


def main() -> list[BenchResult]:
    port = _free_udp_port()
    address = f"127.0.0.1:{port}"
    args = ["--port", str(port), "--device", str(DEVICE_INSTANCE), "--values", str(POINTS)]
    peer = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bacnet_device", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert peer.stdout is not None
        line = peer.stdout.readline()
        if not line.startswith(b"READY"):
            raise RuntimeError(f"bench controller did not start: {line!r}")
        rows = asyncio.run(_run(address))
    finally:
        peer.terminate()
        peer.wait(10)
    bare_s = rows[0][1]
    print(f"{POINTS} analog values on one controller (separate process), {PER_REQUEST} per RPM, best of {PASSES}")
    print(f"{'case':<42} {'points/s':>10} {'ratio':>7}  values read")
    for name, seconds, count in rows:
        print(f"{name:<42} {count / seconds:>10,.0f} {bare_s / seconds:>7.2f}  {count}")
    bare = rows[0][2] / bare_s
    return [
        BenchResult.rate(
            f"BMS read-back, {name.removeprefix('ours: ')}, vs bare bacpypes3 RPM", count / s, bare, "points/s"
        )
        for name, s, count in rows[1:]
    ]


if __name__ == "__main__":
    main()
