"""OPC UA server: OpcUaServer.update() vs a bare asyncua write_value loop, memory, notification latency.

All cases run in one process, one after the other, on the same machine state:
- updates/s through `OpcUaServer.update()` (PointValue -> DataValue with status and source timestamp,
  then asyncua's `write_attribute_value` fast path) for POINTS AnalogItemType points;
- the baseline: a bare asyncua server with POINTS plain Double variables and `Node.write_value()`;
- the floor of the fast path: bare `write_attribute_value` with a prebuilt DataValue;
- resident memory added by the POINTS points (RSS before/after `add_points` on a running server);
- latency from `update()` to the data-change notification in a subscribed asyncua client (same process,
  so one clock; the publishing interval bounds it from below).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.server.server import Server

from benchmarks.result import Result
from bms_bridge.exposure.points import ExposedPoint, PointValue
from bms_bridge.opcua import OpcUaServer, OpcUaSettings

POINTS = int(os.environ.get("BENCH_OPCUA_POINTS", "5000"))
ROUNDS = 4  # updates per point in the throughput cases
LATENCY_SAMPLES = 200
PUBLISHING_MS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def exposed(count: int) -> list[ExposedPoint]:
    return [
        ExposedPoint(
            point_id=f"p{i}",
            name=f"B-{i // 1000}.M-{i // 10:04d}.energy-{i}",
            description="bench point",
            unit="kWh",
            cumulative=True,
            bacnet_object="accumulator",
            bacnet_instance=i,
            opcua_node_id=f"Site.B-{i // 1000}.M-{i // 10:04d}.energy-{i}",
            path=("Site", f"B-{i // 1000}", "Common", f"M-{i // 10:04d}"),
        )
        for i in range(count)
    ]


async def time_updates(server: OpcUaServer, count: int) -> float:
    now = datetime.now(UTC)
    values = [PointValue(f"p{i}", float(r * count + i), now) for r in range(ROUNDS) for i in range(count)]
    started = time.perf_counter()
    for value in values:
        await server.update(value)
    return len(values) / (time.perf_counter() - started)


async def bare_asyncua(count: int) -> tuple[float, float, int]:
    """write_value and write_attribute_value rates, and RSS added, for plain variables of a bare server."""
    server = Server()
    await server.init()
    idx = await server.register_namespace("urn:bench:bare")
    # asyncua scans every reference of the parent for each added node: 100 variables a folder, like meters.
    folders = [await server.nodes.objects.add_folder(idx, f"Bare-{f}") for f in range((count + 99) // 100)]
    rss_before = rss_bytes()
    # What Node.add_variable() sends, in one AddNodes batch (one call per variable takes ~2.5 ms each).
    items = []
    for i in range(count):
        folder = folders[i // 100]
        attrs = ua.VariableAttributes()
        attrs.DisplayName = ua.LocalizedText(f"v{i}")
        attrs.Value = ua.Variant(0.0, ua.VariantType.Double)
        attrs.DataType = ua.NodeId(ua.ObjectIds.Double)  # type: ignore[attr-defined,arg-type]
        attrs.ValueRank = ua.ValueRank.Scalar
        attrs.AccessLevel = attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
        items.append(
            ua.AddNodesItem(
                ParentNodeId=folder.nodeid,
                ReferenceTypeId=ua.NodeId(ua.ObjectIds.HasComponent),  # type: ignore[attr-defined,arg-type]
                RequestedNewNodeId=ua.NodeId(f"v{i}", idx),  # type: ignore[arg-type]
                BrowseName=ua.QualifiedName(f"v{i}", idx),
                NodeClass=ua.NodeClass.Variable,
                NodeAttributes=attrs,
                TypeDefinition=ua.NodeId(ua.ObjectIds.BaseDataVariableType),  # type: ignore[attr-defined,arg-type]
            )
        )
    results = await server.nodes.objects.session.add_nodes(items)
    assert all(r.StatusCode.is_good() for r in results)
    rss_added = rss_bytes() - rss_before
    nodes = [server.get_node(r.AddedNodeId) for r in results]
    started = time.perf_counter()
    for r in range(ROUNDS):
        for i, node in enumerate(nodes):
            await node.write_value(float(r * count + i))
    write_value_rate = ROUNDS * count / (time.perf_counter() - started)
    now = datetime.now(UTC)
    prepared = [
        (node.nodeid, ua.DataValue(ua.Variant(float(i), ua.VariantType.Double), SourceTimestamp=now))  # type: ignore[arg-type]
        for i, node in enumerate(nodes)
    ]
    started = time.perf_counter()
    for _ in range(ROUNDS):
        for node_id, dv in prepared:
            await server.write_attribute_value(node_id, dv)
    fast_rate = ROUNDS * count / (time.perf_counter() - started)
    await server.stop()
    return write_value_rate, fast_rate, rss_added


class Arrivals:
    def __init__(self) -> None:
        self.arrived: dict[float, float] = {}  # value -> perf_counter at notification
        self.event = asyncio.Event()

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.arrived[float(val)] = time.perf_counter()
        self.event.set()


async def notification_latency(server: OpcUaServer, url: str) -> list[float]:
    arrivals = Arrivals()
    watched = [f"p{i}" for i in range(0, min(POINTS, 100))]
    async with Client(url, timeout=10) as client:
        subscription = await client.create_subscription(PUBLISHING_MS, arrivals)
        await subscription.subscribe_data_change([client.get_node(server.node_id(p)) for p in watched])
        await asyncio.sleep(0.2)  # initial values
        latencies = []
        for n in range(LATENCY_SAMPLES):
            value = 1e9 + n
            arrivals.event.clear()
            sent = time.perf_counter()
            await server.update(PointValue(watched[n % len(watched)], value, datetime.now(UTC)))
            async with asyncio.timeout(5):
                while value not in arrivals.arrived:
                    await arrivals.event.wait()
                    arrivals.event.clear()
            latencies.append(arrivals.arrived[value] - sent)
        await subscription.delete()
    return latencies


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


async def run(results: list[Result]) -> list[tuple[str, str]]:
    url = f"opc.tcp://127.0.0.1:{free_port()}"
    settings = OpcUaSettings(endpoint=url, namespace_uri="urn:bench:opcua")
    async with OpcUaServer(settings, []) as server:
        rss_before = rss_bytes()
        started = time.perf_counter()
        await server.add_points(exposed(POINTS))
        build_s = time.perf_counter() - started
        rss_after = rss_bytes()
        ours = await time_updates(server, POINTS)
        write_value_rate, fast_rate, bare_added = await bare_asyncua(POINTS)
        latencies = await notification_latency(server, url)
    added = rss_after - rss_before
    results += [
        Result.rate(f"OPC UA update(), {POINTS} points, vs bare write_value", ours, write_value_rate, "updates/s"),
        Result(
            f"OPC UA server memory, {POINTS} points (RSS added)",
            added / 2**20,
            bare_added / 2**20,
            "MiB",
            added / bare_added if bare_added > 0 else None,
        ),
        Result(
            f"OPC UA update -> notification p50 ({PUBLISHING_MS} ms publishing)",
            percentile(latencies, 50) * 1000,
            None,
            "ms",
        ),
    ]
    return [
        ("points", f"{POINTS:,}"),
        ("add_points (AnalogItemType + 2 properties each)", f"{build_s:.2f} s"),
        ("RSS added by the points", f"{added / 2**20:.1f} MiB ({added / POINTS / 1024:.1f} KiB/point)"),
        ("RSS added by as many plain asyncua variables", f"{bare_added / 2**20:.1f} MiB"),
        ("process RSS with server", f"{rss_after / 2**20:.0f} MiB"),
        ("OpcUaServer.update()", f"{ours:,.0f} updates/s"),
        ("bare asyncua Node.write_value()", f"{write_value_rate:,.0f} updates/s"),
        ("bare write_attribute_value (prebuilt)", f"{fast_rate:,.0f} updates/s"),
        ("ratio update() / write_value()", f"{ours / write_value_rate:.2f}x"),
        (
            f"update -> notification, {PUBLISHING_MS} ms publishing",
            f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms",
        ),
    ]


def main() -> list[Result]:
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    results: list[Result] = []
    rows = asyncio.run(run(results))
    width = max(len(name) for name, _ in rows)
    print(f"{'OPC UA server':<{width}}  result")
    for name, result in rows:
        print(f"{name:<{width}}  {result}")
    return results


if __name__ == "__main__":
    main()
