"""The same defects checked with node-opcua (JavaScript), a third OPC UA SDK, in a separate process."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from bms_bridge.exposure.build import devices_of_points, exposed_points
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.history import PointHistory
from bms_bridge.opcua import OpcUaServer, OpcUaSettings
from bms_bridge.sites import open_site
from metering.readings import Reading
from metering.store import Store
from tests.opcua.conftest import CLIENTS, NS_URI, json_lines
from tests.opcua.peers import require_node_opcua
from tests.opcua.test_conformance_python_opcua import (
    COMMON_INTERVALS,
    DEMO,
    NEVER_READ,
    T_LIVE,
    UNIT_POINTS,
    demo_store,
    health,
)
from tests.support.live import site_live_totals
from tests.support.services import free_tcp_port

__all__ = ["demo_store"]  # the fixture, shared with the python-opcua tests


async def node_probe(url: str, steps: list[dict[str, Any]], home: Path) -> list[dict[str, Any]]:
    node, modules = require_node_opcua()
    process = await asyncio.create_subprocess_exec(
        node,
        str(CLIENTS / "node_opcua_probe.js"),
        url,
        json.dumps(steps),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # node-opcua creates a client certificate under HOME on first use: keep it in the test's folder
        env={**os.environ, "NODE_PATH": str(modules), "HOME": str(home)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode()[-2000:]
    return json_lines(out.decode().splitlines())


async def test_units_status_range_and_virtual_history_seen_by_node_opcua(demo_store: Store, tmp_path: Path) -> None:
    site = open_site(DEMO)
    demo = [
        p for p in exposed_points(site, T_LIVE.date()) if p.point_id in ("el.A-common", "el.A-main", "el.ahu-a.power")
    ]
    terms = await site_live_totals(site, "el.A-common")
    devices = {**devices_of_points(site), NEVER_READ.point_id: frozenset({"dev-ch"})}
    points = [*demo, *UNIT_POINTS, NEVER_READ]
    feed = ExposureFeed(points, devices, None, lambda: T_LIVE, virtual=terms)
    history = PointHistory(demo_store, feed.value_of, ["el.A-common"])
    settings = OpcUaSettings(endpoint=f"opc.tcp://127.0.0.1:{free_tcp_port()}", namespace_uri=NS_URI)
    async with OpcUaServer(settings, points, history=history.read) as server:
        feed.add_sink(server.update_many)
        await feed.on_health(health("dev-ch", online=False))
        inputs = list(terms.formulas["el.A-common"].dependencies)
        await feed.on_readings([Reading(i, T_LIVE, 10_000.0 if i == "el.A-main" else 100.0) for i in inputs])
        common = server.node_id("el.A-common")
        start, end = (T_LIVE - timedelta(hours=1)).isoformat(), T_LIVE.isoformat()
        results = await node_probe(
            settings.endpoint,
            [
                *({"op": "variable", "node": server.node_id(p.point_id)} for p in UNIT_POINTS),
                {"op": "variable", "node": server.node_id(NEVER_READ.point_id)},
                {"op": "variable", "node": server.node_id("el.ahu-a.power")},
                {"op": "variable", "node": common},
                {"op": "history", "node": common, "start": start, "end": end},
            ],
            tmp_path,
        )
    *units, never, power, variable, trend = results
    assert [r["unit_id"] for r in units] == [0x443434, 0x443436, 0x433739, 0x4B5641]  # D44, D46, C79, KVA
    assert (never["status"], never["value"], never["source_timestamp"]) == ("BadNoCommunication", None, None)
    assert power["eu_range"][0] == 0.0 and abs(power["eu_range"][1] - 43.47) < 1e-9
    assert (variable["value"], variable["historizing"], variable["history_read"]) == (7900.0, True, True)
    assert trend["status"] == "Good"
    totals = [7900.0 - sum(COMMON_INTERVALS[i + 1 :]) for i in range(len(COMMON_INTERVALS))]
    assert [value for _, value in trend["samples"]] == totals
    assert trend["samples"][-1][0] == "2026-03-03T09:00:00.000Z"
