"""What an HMI sees of our variables, read by python-opcua (not asyncua) in a separate process."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.exposure.build import devices_of_points, exposed_points
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.history import PointHistory
from bms_bridge.exposure.points import ExposedPoint
from bms_bridge.opcua import OpcUaServer, OpcUaSettings
from bms_bridge.sites import open_site
from metering.health import DeviceHealth
from metering.readings import Interval, Reading
from metering.store import Store
from tests.opcua.conftest import CLIENTS, NS_URI, MemoryHistory, json_lines, point, run_client
from tests.support.live import site_live_totals
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


@contextlib.asynccontextmanager
async def serve(points: list[ExposedPoint], history: MemoryHistory | None = None) -> AsyncIterator[OpcUaServer]:
    settings = OpcUaSettings(endpoint=f"opc.tcp://127.0.0.1:{free_tcp_port()}", namespace_uri=NS_URI)
    async with OpcUaServer(settings, points, history=history.read if history else None) as server:
        yield server


@pytest.fixture
async def unit_server() -> AsyncIterator[OpcUaServer]:
    async with serve(UNIT_POINTS) as server:
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


NEVER_READ = point("chiller-energy", "kWh", meter="M-CH")  # its device unreachable since start
READ_BEFORE = point("ahu-energy", "kWh", meter="M-AHU")  # read once, then its device went away
MEASURED = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def health(device_id: str, online: bool) -> DeviceHealth:
    return DeviceHealth(
        device_id, online, None, MEASURED, None if online else "no answer", 0, 0 if online else 1, MEASURED
    )


async def test_a_point_never_read_is_bad_no_communication_without_a_value() -> None:
    async with serve([NEVER_READ, READ_BEFORE]) as server:
        clock = [MEASURED]
        feed = ExposureFeed(
            [NEVER_READ, READ_BEFORE],
            {NEVER_READ.point_id: frozenset({"dev-ch"}), READ_BEFORE.point_id: frozenset({"dev-ahu"})},
            timedelta(minutes=15),
            lambda: clock[0],
            sinks=[server.update_many],
        )
        await feed.on_health(health("dev-ch", online=False))
        await feed.on_readings([Reading(READ_BEFORE.point_id, MEASURED, 1234.5)])
        clock[0] = MEASURED + timedelta(minutes=3)
        await feed.on_health(health("dev-ahu", online=False))
        await feed.refresh()
        never, before = await inspect(
            server._settings.endpoint,
            [{"op": "variable", "node": server.node_id(p.point_id)} for p in (NEVER_READ, READ_BEFORE)],
        )
    # Part 8 6.3.2: no last known value -> Bad_NoCommunication, a null value and no source timestamp
    assert (never["status"], never["value"], never["source_timestamp"]) == ("BadNoCommunication", None, None)
    # a value read before the outage is still the last usable one, stamped with the meter's time
    assert (before["status"], before["value"]) == ("UncertainNoCommunicationLastUsableValue", 1234.5)
    assert datetime.fromisoformat(before["source_timestamp"]) == MEASURED


DEMO = Path(__file__).resolve().parents[2] / "sites" / "demo"


async def test_eurange_comes_from_the_meter_or_the_yaml() -> None:
    wanted = ("el.ahu-a.power", "el.chiller.power", "el.ahu-a")
    points = [p for p in exposed_points(open_site(DEMO), date(2026, 1, 5)) if p.point_id in wanted]
    async with serve(points) as server:
        results = await inspect(
            server._settings.endpoint, [{"op": "variable", "node": server.node_id(p)} for p in wanted]
        )
    power, chiller, energy = (r["eu_range"] for r in results)
    assert power == pytest.approx([0.0, 43.47])  # iEM3155 rating: 63 A × 230 V × 3 phases
    assert chiller == [0.0, 180.0]  # from the YAML: the EM24 profile has no rating
    assert energy == ["-inf", "inf"]  # a running total has no operating range: unbounded, not invented


T_LIVE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
# el.A-common's stored consumption in the hour before its live value, kWh per 15 minutes
COMMON_INTERVALS = [2.0, 3.0, 1.5, 2.5]


@pytest.fixture
async def demo_store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store.open(f"sqlite+aiosqlite:///{tmp_path / 'history.db'}") as store:
        start = T_LIVE - timedelta(hours=1)
        await store.upsert_intervals(
            Interval("el.A-common", start + i * timedelta(minutes=15), value)
            for i, value in enumerate(COMMON_INTERVALS)
        )
        yield store


async def test_virtual_points_sit_in_their_building_with_history_from_their_intervals(demo_store: Store) -> None:
    site = open_site(DEMO)
    points = [p for p in exposed_points(site, T_LIVE.date()) if p.point_id in ("el.A-common", "el.A-main")]
    terms = await site_live_totals(site, "el.A-common")
    feed = ExposureFeed(points, devices_of_points(site), None, lambda: T_LIVE, virtual=terms)
    history = PointHistory(demo_store, feed.value_of, ["el.A-common"])
    settings = OpcUaSettings(endpoint=f"opc.tcp://127.0.0.1:{free_tcp_port()}", namespace_uri=NS_URI)
    async with OpcUaServer(settings, points, history=history.read) as server:
        feed.add_sink(server.update_many)
        # live: main 10,000 kWh, each of the 21 tenant breakers 100 kWh -> common areas 7,900 kWh
        inputs = list(terms.formulas["el.A-common"].dependencies)
        await feed.on_readings([Reading(i, T_LIVE, 10_000.0 if i == "el.A-main" else 100.0) for i in inputs])
        node = server.node_id("el.A-common")
        variable, trend = await inspect(
            settings.endpoint,
            [
                {"op": "variable", "node": node},
                {
                    "op": "history",
                    "node": node,
                    "start": "2026-03-03T08:00:00+00:00",
                    "end": "2026-03-03T09:00:00+00:00",
                },
            ],
        )
    assert variable["parents"] == [
        "Business Center Lindenhof (demo)",
        "Building A (Lindenallee 10)",
        "Common areas",  # billed to nobody directly: a pool shared by leased area
        "Virtual",
    ]
    assert (variable["value"], variable["historizing"], variable["history_read"]) == (7900.0, True, True)
    # totals at each interval's end, leading back from the live 7,900 kWh by the stored consumption
    assert trend["status"] == "Good"
    assert trend["samples"] == [
        ["2026-03-03T08:15:00Z", 7900.0 - 2.5 - 1.5 - 3.0],
        ["2026-03-03T08:30:00Z", 7900.0 - 2.5 - 1.5],
        ["2026-03-03T08:45:00Z", 7900.0 - 2.5],
        ["2026-03-03T09:00:00Z", 7900.0],
    ]


async def test_without_a_history_source_nothing_claims_history() -> None:
    async with serve([READ_BEFORE]) as server:
        node = server.node_id(READ_BEFORE.point_id)
        variable, trend = await inspect(
            server._settings.endpoint,
            [
                {"op": "variable", "node": node},
                {
                    "op": "history",
                    "node": node,
                    "start": "2026-03-03T08:00:00+00:00",
                    "end": "2026-03-03T09:00:00+00:00",
                },
            ],
        )
    assert (variable["historizing"], variable["history_read"]) == (False, False)
    # Part 4 7.34: the access level does not allow it; not "Good, no values in this range"
    assert (trend["status"], trend["samples"]) == ("BadNotReadable", [])
