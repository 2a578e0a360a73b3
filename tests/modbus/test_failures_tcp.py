"""A dead device and a device answering exceptions must not disturb the others' cycles; back-off grows."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bms_bridge.modbus.acquisition import ModbusAcquisition, poll_once
from bms_bridge.modbus.device_poller import DevicePoller
from bms_bridge.modbus.network import ModbusNetwork
from metering.health import DeviceHealth, backoff_delay
from metering.readings import Reading
from tests.modbus.meters import meter_image
from tests.modbus.sites import meter, point, tcp_device, write_site
from tests.support.modbus_sim import modbus_sim
from tests.support.services import free_tcp_port


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(n, 0.5, 3.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff_delay(10_000, 30, 1800) == 1800  # no overflow after days of silence


async def test_dead_and_refusing_devices_leave_the_healthy_one_on_time(tmp_path: Path) -> None:
    good = meter_image("eastron-sdm630", {"voltage_l1": 230.0, "active_energy_import": 10.0})
    # The refusing meter serves its voltages only: the energy read (address 72) answers exception 02.
    partial = {0: meter_image("eastron-sdm630", {"voltage_l1": 229.0})[4][0][:12]}
    async with (
        modbus_sim(input_registers=good[4]) as healthy,
        modbus_sim(input_registers=partial) as refusing,
    ):
        site = write_site(
            tmp_path,
            devices=[
                tcp_device("good", healthy.port, "eastron-sdm630", poll="400ms", timeout="200ms"),
                tcp_device("refusing", refusing.port, "eastron-sdm630", poll="400ms", timeout="200ms"),
                tcp_device("dead", free_tcp_port(), "eastron-sdm630", poll="400ms", timeout="200ms"),
            ],
            meters=[meter("g", "good"), meter("r", "refusing"), meter("d", "dead")],
            points=[
                p
                for m in ("g", "r", "d")
                for p in (point(f"{m}.v", m, "voltage_l1"), point(f"{m}.e", m, "active_energy_import"))
            ],
            acquisition={"backoff_initial": "400ms", "backoff_max": "1600ms"},
        )
        readings: list[tuple[float, Reading]] = []
        health: dict[str, list[DeviceHealth]] = {}
        loop = asyncio.get_running_loop()

        async def sink(reading: Reading) -> None:
            readings.append((loop.time(), reading))

        async def health_sink(state: DeviceHealth) -> None:
            health.setdefault(state.device_id, []).append(state)

        async with ModbusAcquisition(site, sink, health_sink) as acquisition:
            await asyncio.sleep(3.3)
            dead_poller = acquisition.pollers["dead"]
            dead_delay = dead_poller.next_delay()

    # The healthy meter: a cycle every 400 ms, each complete, as if the others were fine.
    good_times = [t for t, r in readings if r.point_id == "g.e"]
    assert len(good_times) >= 8
    gaps = [b - a for a, b in itertools.pairwise(good_times)]
    assert max(gaps) < 0.4 + 0.1, gaps
    assert {r.value for _, r in readings if r.point_id == "g.v"} == {230.0}
    # The refusing meter: its voltage still arrives; health names the exception; it is not backed off.
    assert {r.value for _, r in readings if r.point_id == "r.v"} == {229.0}
    assert not any(r.point_id == "r.e" for _, r in readings)
    last = health["refusing"][-1]
    # it answered (its voltage block decoded): reachable, so not a communication failure; the energy
    # point simply gets no new value and goes stale
    assert "exception 02" in (last.last_error or "") and last.online
    assert len(health["refusing"]) >= 8
    # The dead meter: offline, errors counted, retried ever less often (400, 800, 1600, 1600 ms ...).
    dead = health["dead"]
    assert not dead[-1].online and dead[-1].last_success is None
    assert dead[-1].error_count == len(dead) and 3 <= len(dead) <= 5
    assert "cannot connect" in (dead[-1].last_error or "")
    assert dead_delay == pytest.approx(1.6)


async def test_probe_is_one_small_read_and_backoff_grows(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        devices=[tcp_device("dead", free_tcp_port(), "eastron-sdm630", poll="1s", timeout="100ms")],
        meters=[meter("d", "dead")],
        points=[point("d.v", "d", "voltage_l1"), point("d.e", "d", "active_energy_import")],
        acquisition={"backoff_initial": "2s", "backoff_max": "10s"},
    )
    network = ModbusNetwork(site.model)
    device = site.model.device_by_id["dead"]
    poller = DevicePoller(site.model, site.profiles, device, network.link(device), _ignore, _ignore)
    lane = network.host_lanes["127.0.0.1"]
    try:
        first = await poller.attempt()  # a full cycle, given up after the first unanswered block
        assert (first.probe_only, first.requests, first.unreachable) == (False, 1, True)
        delays, probes = [poller.next_delay()], []
        for _ in range(3):
            probes.append(await poller.attempt())
            delays.append(poller.next_delay())
    finally:
        network.close()
    assert delays == [2.0, 4.0, 8.0, 10.0]
    assert all(o.probe_only and o.requests == 1 and o.readings == () for o in probes)
    assert lane.requests == 4  # one read per attempt, whatever the number of blocks
    assert poller.health.consecutive_failures == 4


async def test_poll_once_reports_errors_per_device(tmp_path: Path) -> None:
    image = meter_image("eastron-sdm630", {"voltage_l1": 230.0})
    async with modbus_sim(input_registers=image[4]) as sim:
        site = write_site(
            tmp_path,
            devices=[
                tcp_device("good", sim.port, "eastron-sdm630"),
                tcp_device("ghost", sim.port, "eastron-sdm630", unit=9),  # a unit the server does not have
                tcp_device("dead", free_tcp_port(), "eastron-sdm630"),
            ],
            meters=[meter("g", "good"), meter("h", "ghost"), meter("d", "dead")],
            points=[point("g.v", "g", "voltage_l1"), point("h.v", "h", "voltage_l1"), point("d.v", "d", "voltage_l1")],
        )
        started = asyncio.get_running_loop().time()
        result = await poll_once(site, clock=lambda: datetime(2025, 1, 1, tzinfo=UTC))
        elapsed = asyncio.get_running_loop().time() - started
    assert [r.point_id for r in result.readings] == ["g.v"]
    assert set(result.errors) == {"ghost", "dead"}
    assert "unit 9" in result.errors["ghost"][0] and "exception 04" in result.errors["ghost"][0]  # pymodbus' answer
    assert not result.health["dead"].online and result.health["good"].online
    assert elapsed < 1.0  # the dead device costs at most its own timeout, not pymodbus's 3 s x 4


async def _ignore(_: object) -> None:
    return None
