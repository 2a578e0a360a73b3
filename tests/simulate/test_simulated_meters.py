"""SimulatedMeters on the demo site: real pymodbus servers on free loopback ports, read by a pymodbus
client and decoded with `metering.decoding`; history continues into the live values; nothing leaks."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymodbus.client import AsyncModbusTcpClient

from bms_bridge.simulate import LoadModel, SimulatedMeters, lpwan_uplinks, simulated_history
from bms_bridge.simulate.history import history_points
from metering.decoding import decode
from metering.readings import Quality
from point_mapping.loader import LoadedSite
from tests.support.services import free_tcp_port, port_answers

NOW = datetime(2024, 3, 5, 10, 7, 30, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def meters(demo: LoadedSite, clock: FakeClock) -> AsyncIterator[SimulatedMeters]:
    ports = {p: free_tcp_port() for p in range(15020, 15027)}
    async with SimulatedMeters(demo, clock=clock, port_map=ports, refresh_interval=3600) as sim:
        yield sim


async def read(sim: SimulatedMeters, device_id: str, name: str) -> float | None:
    device = sim.site.model.device_by_id[device_id]
    profile = sim.site.profiles[device.profile or ""]
    spec = profile.registers[name]
    host, port, unit = sim.address_of(device_id)
    client = AsyncModbusTcpClient(host, port=port, timeout=2, retries=0)
    assert await client.connect()
    try:
        call = client.read_holding_registers if spec.function_code == 3 else client.read_input_registers
        response = await call(spec.address, count=spec.register_count, device_id=unit)
        assert not response.isError(), response
        byte_order, word_order = profile.orders(name)
        return decode(spec, response.registers, byte_order=byte_order, word_order=word_order)
    finally:
        client.close()


def test_one_server_per_gateway_and_per_direct_meter(meters: SimulatedMeters) -> None:
    names = {e.name: len(e.devices) for e in meters.endpoints}
    assert names["bus-a"] > 15 and names["bus-b"] > 15
    assert names["127.0.0.1:15022"] == 1
    assert len(names) == 7
    assert all(e.port not in range(15020, 15027) for e in meters.endpoints)  # the port map was applied


async def test_gateway_unit_serves_the_load_model_energy(meters: SimulatedMeters) -> None:
    value = await read(meters, "dev-a3-03", "active_energy_import")  # server room breaker, bus A
    assert value == pytest.approx(meters.model.cumulative("el.A3-03", NOW), abs=0.01)
    power = await read(meters, "dev-a3-03", "active_power")
    assert power == pytest.approx(meters.model.rate("el-A3-03", NOW), rel=1e-5)
    voltage = await read(meters, "dev-a3-03", "voltage_l1")
    assert voltage is not None and 225 < voltage < 235
    assert await read(meters, "dev-a3-03", "frequency") == pytest.approx(50.0, abs=0.1)


async def test_ct_meter_serves_secondary_values(meters: SimulatedMeters) -> None:
    chiller = meters.site.model.meter_by_id["chiller"]
    assert chiller.multiplier == 60
    raw = await read(meters, "dev-chiller", "active_energy_import")
    assert raw is not None
    assert raw * chiller.multiplier == pytest.approx(meters.model.meter_total("chiller", NOW), abs=0.1 * 60)


async def test_pulse_counter_counts_whole_pulses(meters: SimulatedMeters) -> None:
    pulses = await read(meters, "dev-pulse-b2", "counter_3")  # B2 restroom, 1 L per pulse
    litres = meters.model.meter_total("wc-b2.cw", NOW) * 1000
    assert pulses is not None and pulses == int(litres)
    assert await read(meters, "dev-pulse-b2", "counter_4") == 0  # an unused channel


async def test_refresh_follows_the_clock(meters: SimulatedMeters, clock: FakeClock) -> None:
    before = await read(meters, "dev-a-main", "active_energy_import")
    clock.now = NOW + timedelta(hours=2)
    await meters.refresh()
    after = await read(meters, "dev-a-main", "active_energy_import")
    assert before is not None and after is not None and after > before
    assert after == pytest.approx(meters.model.cumulative("el.A-main", clock.now), abs=0.1)


async def test_history_continues_into_live_values(meters: SimulatedMeters, demo: LoadedSite) -> None:
    end = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    start = end - timedelta(hours=6)
    readings = list(simulated_history(demo, start, end, LoadModel(demo.model)))
    points = history_points(demo)
    assert len(readings) == 25 * len(points)
    assert {r.quality for r in readings} == {Quality.MEASURED}
    assert readings[0].ts == start and readings[-1].ts == end
    last = {r.point_id: r.value for r in readings if r.ts == end}
    first = {r.point_id: r.value for r in readings if r.ts == start}
    assert all(last[p] >= first[p] for p in last)
    assert "cw.B2-wc" in last and "el.A-main.power" not in last  # cumulative points only
    await meters.refresh(end)
    live = await read(meters, "dev-a3-03", "active_energy_import")
    assert live == pytest.approx(last["el.A3-03"], abs=1e-9)
    pulses = await read(meters, "dev-pulse-b2", "counter_3")
    assert pulses is not None and last["cw.B2-wc"] == pytest.approx(pulses / 1000)


async def test_history_starts_at_the_next_boundary(demo: LoadedSite) -> None:
    start = datetime(2024, 3, 5, 10, 1, tzinfo=UTC)
    stamps = {r.ts for r in simulated_history(demo, start, start + timedelta(minutes=30))}
    assert sorted(stamps) == [datetime(2024, 3, 5, 10, 15, tzinfo=UTC), datetime(2024, 3, 5, 10, 30, tzinfo=UTC)]


def test_lpwan_uplinks_carry_the_litre_counter(demo: LoadedSite, model: LoadModel) -> None:
    uplinks = {u.payload["deviceInfo"]["devEui"]: u for u in lpwan_uplinks(demo.model, model, NOW)}
    assert set(uplinks) == {"70b3d57ed0050001", "70b3d57ed0050002"}
    fitness = uplinks["70b3d57ed0050001"]
    assert fitness.topic.endswith("/device/70b3d57ed0050001/event/up")
    data = base64.b64decode(fitness.payload["data"])
    assert int.from_bytes(data[:4], "little") == int(model.meter_total("fit.hw", NOW) * 1000)
    later = lpwan_uplinks(demo.model, model, NOW + timedelta(minutes=15))[0]
    assert later.payload["fCnt"] == fitness.payload["fCnt"] + 1
    assert fitness.payload["time"] == "2024-03-05T10:07:30Z"


async def test_servers_stop_and_no_task_is_left(demo: LoadedSite) -> None:
    ports = {p: free_tcp_port() for p in range(15020, 15027)}
    port = ports[15020]
    before = asyncio.all_tasks()
    async with SimulatedMeters(demo, clock=lambda: NOW, port_map=ports, refresh_interval=0.05) as sim:
        assert port_answers("127.0.0.1", port)
        await asyncio.sleep(0.2)  # a few refresh rounds
        _, bound, unit = sim.address_of("dev-a1-01")
        assert bound == port and unit >= 1
    await asyncio.sleep(0.05)
    assert not port_answers("127.0.0.1", port)
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leftover == set()
