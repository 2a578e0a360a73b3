"""BACnet server benchmark: RPM throughput vs bare bacpypes3, memory per point, COV latency.

Run: .venv/bin/python -c "import benchmarks.bench_bacnet as b; b.main()"   (about 15-30 s)
Client and servers share one process on different loopback ports (docs/testing-peers.md); absolute numbers move
from run to run, the ratio measured side by side is the figure to compare.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

from bacpypes3.app import Application
from bacpypes3.local.analog import AnalogValueObject
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from benchmarks.result import Result
from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.exposure.points import ExposedPoint, PointValue

N_THROUGHPUT = 1_000
N_MEMORY = 5_000
OBJECTS_PER_RPM = 25  # what a typical BMS packs in one ReadPropertyMultiple of presentValue
PASSES = 2
COV_UPDATES = 50


def _free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _points(n: int) -> list[ExposedPoint]:
    return [
        ExposedPoint(
            point_id=f"p{i}",
            name=f"B-A.F{i // 100}.M-{i:05d}.active-power",
            description="bench point",
            unit="kW",
            cumulative=False,
            bacnet_object="analog-input",
            bacnet_instance=i,
            opcua_node_id=f"p{i}",
        )
        for i in range(1, n + 1)
    ]


def _app(instance: int, port: int) -> Any:
    device = DeviceObject(objectIdentifier=("device", instance), objectName=f"bench-{instance}", vendorIdentifier=999)
    netport = NetworkPortObject(f"127.0.0.1/8:{port}", objectIdentifier=("network-port", 1), objectName="NetworkPort-1")
    return Application.from_object_list([device, netport])


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def _rpm_rate(client: Any, address: str, object_ids: list[ObjectIdentifier]) -> float:
    """Points per second read with ReadPropertyMultiple of presentValue, OBJECTS_PER_RPM per request."""
    addr = Address(address)
    await client.read_property(addr, object_ids[0], "present-value")  # warm the device-info cache
    started = time.perf_counter()
    read = 0
    for _ in range(PASSES):
        for i in range(0, len(object_ids), OBJECTS_PER_RPM):
            request: list[Any] = []
            for objid in object_ids[i : i + OBJECTS_PER_RPM]:
                request += [objid, ["present-value"]]
            result = await client.read_property_multiple(addr, request)
            read += len(result)
    return read / (time.perf_counter() - started)


async def _throughput() -> tuple[float, float]:
    client = _app(4_100_000, _free_udp_port())
    try:
        # our server
        settings = BacnetDeviceSettings(
            device_instance=4_100_001, device_name="bench-ours", address=f"127.0.0.1/8:{_free_udp_port()}"
        )
        points = _points(N_THROUGHPUT)
        async with BacnetServer(settings, points) as server:
            now = datetime.now(UTC)
            for p in points:
                server.update(PointValue(p.point_id, p.bacnet_instance * 1.5, now))
            ids = [ObjectIdentifier(("analog-input", p.bacnet_instance)) for p in points]
            ours = await _rpm_rate(client, settings.unicast_address, ids)

        # bare bacpypes3 with plain AnalogValue objects
        bare_port = _free_udp_port()
        bare = _app(4_100_002, bare_port)
        try:
            for i in range(1, N_THROUGHPUT + 1):
                bare.add_object(
                    AnalogValueObject(
                        objectIdentifier=("analog-value", i),
                        objectName=f"av-{i}",
                        presentValue=i * 1.5,
                        statusFlags=[0, 0, 0, 0],
                        units="kilowatts",
                        covIncrement=0.0,
                    )
                )
            ids = [ObjectIdentifier(("analog-value", i)) for i in range(1, N_THROUGHPUT + 1)]
            baseline = await _rpm_rate(client, f"127.0.0.1:{bare_port}", ids)
        finally:
            bare.close()
    finally:
        client.close()
    return ours, baseline


async def _memory() -> tuple[float, float]:
    gc.collect()
    rss_before = _rss_kib()
    tracemalloc.start()
    settings = BacnetDeviceSettings(
        device_instance=4_100_003, device_name="bench-mem", address=f"127.0.0.1/8:{_free_udp_port()}"
    )
    async with BacnetServer(settings, _points(N_MEMORY)):
        await asyncio.sleep(0)  # let the objects' post-init tasks run
        traced, _peak = tracemalloc.get_traced_memory()
        rss_after = _rss_kib()
    tracemalloc.stop()
    return traced / 1024 / 1024, (rss_after - rss_before) / 1024


async def _cov_latency() -> list[float]:
    client = _app(4_100_004, _free_udp_port())
    settings = BacnetDeviceSettings(
        device_instance=4_100_005, device_name="bench-cov", address=f"127.0.0.1/8:{_free_udp_port()}"
    )
    points = _points(10)
    latencies: list[float] = []
    try:
        async with BacnetServer(settings, points) as server:
            target = points[0]
            objid = ObjectIdentifier((target.bacnet_object, target.bacnet_instance))
            async with client.change_of_value(
                Address(settings.unicast_address), objid, issue_confirmed_notifications=True, lifetime=120
            ) as scm:
                await asyncio.wait_for(scm.get_value(), 5)  # initial notification: present-value
                await asyncio.wait_for(scm.get_value(), 5)  # and status-flags
                for i in range(COV_UPDATES):
                    started = time.perf_counter()
                    server.update(PointValue(target.point_id, 1000.0 + i, datetime.now(UTC)))
                    await asyncio.wait_for(scm.get_value(), 5)
                    latencies.append((time.perf_counter() - started) * 1000)
                    await asyncio.wait_for(scm.get_value(), 5)  # status-flags of the same notification
    finally:
        client.close()
    return latencies


async def _run() -> list[Result]:
    ours, baseline = await _throughput()
    traced_mib, rss_mib = await _memory()
    latencies = await _cov_latency()
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[18]
    rows = [
        (f"RPM presentValue, {N_THROUGHPUT} points, BacnetServer", f"{ours:,.0f} points/s"),
        (f"RPM presentValue, {N_THROUGHPUT} points, bare bacpypes3 AV", f"{baseline:,.0f} points/s"),
        ("ratio ours / bare", f"{ours / baseline:.2f}"),
        (
            f"memory for {N_MEMORY} points (tracemalloc)",
            f"{traced_mib:.1f} MiB ({traced_mib * 1024 / N_MEMORY:.1f} KiB/pt)",
        ),
        (f"memory for {N_MEMORY} points (RSS delta)", f"{rss_mib:.1f} MiB"),
        (f"update() -> COV at client, p50 ({COV_UPDATES} updates)", f"{p50:.2f} ms"),
        (f"update() -> COV at client, p95 ({COV_UPDATES} updates)", f"{p95:.2f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'bench_bacnet':<{width}}  result")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return [
        Result.rate(f"BACnet RPM presentValue, {N_THROUGHPUT} points, vs bare bacpypes3", ours, baseline, "points/s"),
        Result(f"BACnet server memory, {N_MEMORY} points (RSS added)", rss_mib, None, "MiB"),
        Result("BACnet update() -> COV at client, p50", p50, None, "ms"),
    ]


def main() -> list[Result]:
    return asyncio.run(_run())  # benchmarks/__main__.py reports the time taken


if __name__ == "__main__":
    main()
