"""What an HMI sees of our variables, read by python-opcua (not asyncua) in a separate process."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bms_bridge.exposure.points import ExposedPoint
from bms_bridge.opcua import OpcUaServer, OpcUaSettings
from tests.opcua.conftest import CLIENTS, NS_URI, MemoryHistory, json_lines, point, run_client
from tests.support.services import free_tcp_port

UNIT_POINTS = [
    point("reactive-power", "var"),
    point("apparent-power", "VA"),
    point("apparent-energy", "kVAh"),
    point("apparent-power-k", "kVA"),
]


async def inspect(url: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rc, lines = await run_client(sys.executable, CLIENTS / "python_opcua_inspect.py", url, json.dumps(steps))
    assert rc == 0, lines
    return json_lines(lines)


async def serve(points: list[ExposedPoint], history: MemoryHistory | None = None) -> AsyncIterator[OpcUaServer]:
    settings = OpcUaSettings(endpoint=f"opc.tcp://127.0.0.1:{free_tcp_port()}", namespace_uri=NS_URI)
    async with OpcUaServer(settings, points, history=history.read if history else None) as server:
        yield server


@pytest.fixture
async def unit_server() -> AsyncIterator[OpcUaServer]:
    async for server in serve(UNIT_POINTS):
        yield server


async def test_var_va_kvah_and_kva_have_distinct_unece_codes(unit_server: OpcUaServer) -> None:
    url = unit_server._settings.endpoint
    results = await inspect(url, [{"op": "variable", "node": unit_server.node_id(p.point_id)} for p in UNIT_POINTS])
    # UNECE Rec. 20 D44 (var), D46 (volt ampere), C79 (kVAh), KVA (kVA), packed as OPC 10000-8 5.6.3 says
    assert [(r["unit"], r["unit_id"]) for r in results] == [
        ("var", 0x443434),
        ("VA", 0x443436),
        ("kVAh", 0x433739),
        ("kVA", 0x4B5641),
    ]
