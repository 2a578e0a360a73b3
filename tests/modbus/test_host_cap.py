"""The cap on requests in flight per TCP host holds, however many devices share the host."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.modbus import clients
from bms_bridge.modbus.acquisition import ModbusAcquisition
from metering.readings import Reading
from tests.modbus.meters import meter_image
from tests.modbus.sites import meter, point, tcp_device, write_site
from tests.support.modbus_sim import modbus_sim


async def test_at_most_two_requests_in_flight_per_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_flight = peak = 0
    real_read = clients.LazyClient.read

    async def counted(self: clients.LazyClient, *args: Any) -> list[int]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.01)  # hold the slot a little so that the pollers contend
            return await real_read(self, *args)
        finally:
            in_flight -= 1

    monkeypatch.setattr(clients.LazyClient, "read", counted)
    image = meter_image("eastron-sdm630", {"voltage_l1": 230.0, "active_energy_import": 1.0})
    readings: list[Reading] = []

    async def sink(reading: Reading) -> None:
        readings.append(reading)

    async def ignore(_: object) -> None:
        return None

    async with AsyncExitStack() as stack:
        sims = [await stack.enter_async_context(modbus_sim(input_registers=image[4])) for _ in range(6)]
        site = write_site(
            tmp_path,
            devices=[tcp_device(f"m{i}", sim.port, "eastron-sdm630", poll="500ms") for i, sim in enumerate(sims)],
            meters=[meter(f"m{i}", f"m{i}") for i in range(6)],
            points=[point(f"m{i}.e", f"m{i}", "active_energy_import") for i in range(6)]
            + [point(f"m{i}.v", f"m{i}", "voltage_l1") for i in range(6)],
            acquisition={"max_in_flight_per_host": 2},
        )
        async with ModbusAcquisition(site, sink, ignore) as acquisition:
            await asyncio.sleep(1.2)
            lane = acquisition.network.host_lanes["127.0.0.1"]
            pool_sizes = [pool.size for pool in acquisition.network.pools.values()]

    assert peak == 2 and lane.peak_in_flight == 2  # reached, never passed
    assert lane.requests >= 6 * 2 * 2
    assert max(pool_sizes) <= 2
    assert len({r.point_id for r in readings}) == 12
