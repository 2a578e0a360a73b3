"""An RTU bus through a socat pty pair: two units answer, one never does; frames never overlap."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.modbus import clients
from bms_bridge.modbus.acquisition import ModbusAcquisition, poll_once
from metering.health import DeviceHealth
from metering.readings import Reading
from tests.modbus.meters import meter_image, sim_device
from tests.modbus.rtu import pty_pair, rtu_server
from tests.modbus.sites import meter, point, rtu_device, write_site
from tests.support.services import require_tool

pytestmark = pytest.mark.slow

FRAME_GAP = 0.02


def bus_site(folder: Path, port: str) -> Any:
    return write_site(
        folder,
        buses=[{"id": "rs485-1", "kind": "rtu-serial", "port": port, "baudrate": 19200, "frame_gap": "20ms"}],
        devices=[
            rtu_device("sdm-1", "rs485-1", 1, "eastron-sdm630", poll="500ms", timeout="150ms"),
            rtu_device("dio-2", "rs485-1", 2, "isma-sfar-1m-4di", poll="500ms", timeout="150ms"),
            rtu_device("gone-3", "rs485-1", 3, "eastron-sdm630", poll="500ms", timeout="150ms"),
        ],
        meters=[
            meter("main", "sdm-1", multiplier=5),
            meter("water", "dio-2", "cold_water", pulse_weight={"value": 1, "unit": "L"}),
            meter("gone", "gone-3"),
        ],
        points=[
            point("main.energy", "main", "active_energy_import"),
            point("main.voltage", "main", "voltage_l1"),
            point("water.volume", "water", "counter_3", "m3"),
            point("gone.energy", "gone", "active_energy_import"),
        ],
        acquisition={"backoff_initial": "1s", "backoff_max": "4s"},
    )


def units() -> list[Any]:
    return [
        sim_device(1, meter_image("eastron-sdm630", {"voltage_l1": 230.0, "active_energy_import": 100.25})),
        sim_device(2, meter_image("isma-sfar-1m-4di", {"counter_3": 70000})),  # > 65535: both words matter
    ]


@pytest.fixture
def socat() -> str:
    return require_tool("socat", "socat")


async def test_poll_once_reads_both_units_and_reports_the_silent_one(socat: str, tmp_path: Path) -> None:
    async with pty_pair(socat, tmp_path) as (server_end, client_end), rtu_server(server_end, units()):
        site = bus_site(tmp_path / "site", client_end)
        result = await poll_once(site)
    assert {r.point_id: r.value for r in result.readings} == {
        "main.energy": pytest.approx(501.25),
        "main.voltage": pytest.approx(230.0),
        "water.volume": pytest.approx(70.0),
    }
    assert list(result.errors) == ["gone-3"]
    assert "no answer" in result.errors["gone-3"][0]


async def test_silent_unit_backs_off_while_the_others_keep_their_cycle(
    socat: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Observe the wire side of the lane: every request's start and end, across all devices.
    spans: list[tuple[float, float]] = []
    real_read = clients.LazyClient.read

    async def traced(self: clients.LazyClient, *args: Any) -> list[int]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            return await real_read(self, *args)
        finally:
            spans.append((start, loop.time()))

    monkeypatch.setattr(clients.LazyClient, "read", traced)
    readings: list[tuple[float, Reading]] = []
    health: dict[str, list[DeviceHealth]] = {}

    async def sink(reading: Reading) -> None:
        readings.append((asyncio.get_running_loop().time(), reading))

    async def health_sink(state: DeviceHealth) -> None:
        health.setdefault(state.device_id, []).append(state)

    async with pty_pair(socat, tmp_path) as (server_end, client_end), rtu_server(server_end, units()):
        site = bus_site(tmp_path / "site", client_end)
        async with ModbusAcquisition(site, sink, health_sink) as acquisition:
            await asyncio.sleep(3.2)
            lane = acquisition.network.bus_lanes["rs485-1"]

    # One frame at a time, with the configured silence between them.
    spans.sort()
    assert lane.peak_in_flight == 1
    assert all(b_start - a_end >= FRAME_GAP * 0.9 for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    # The answering units: a full cycle every 500 ms, despite the silent unit on their bus.
    for point_id in ("main.energy", "water.volume"):
        times = [t for t, r in readings if r.point_id == point_id]
        assert len(times) >= 6, point_id
        assert max(b - a for a, b in itertools.pairwise(times)) < 0.5 + 0.2
    # The silent unit: tried at 0, then after 1 s and 2 s (back-off), each time for one timeout only.
    gone = health["gone-3"]
    assert 2 <= len(gone) <= 3 and not gone[-1].online
    assert gone[-1].error_count == len(gone)
    assert all(h.online for h in (health["sdm-1"][-1], health["dio-2"][-1]))
