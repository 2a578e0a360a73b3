"""poll_once over Modbus TCP against pymodbus servers serving real meter maps: exact point values."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bms_bridge.modbus.acquisition import poll_once
from tests.modbus.meters import meter_image
from tests.modbus.sites import meter, point, tcp_device, write_site
from tests.support.modbus_sim import modbus_sim

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


async def test_four_meter_kinds_read_exactly(tmp_path: Path) -> None:
    sdm = meter_image("eastron-sdm630", {"voltage_l1": 230.5, "current_l1": 2.5, "active_energy_import": 1234.5})
    em24 = meter_image("carlo-gavazzi-em24", {"voltage_l1": 231.2, "active_energy_import": 5432.1})
    iem = meter_image("schneider-iem3155", {"active_energy_import": 98765.432, "current_l1": None})
    pulses = meter_image("isma-sfar-1m-4di", {"counter_1": 1500, "counter_2": 7})
    async with (
        modbus_sim(input_registers=sdm[4], device_id=1) as s1,
        modbus_sim(input_registers=em24[4], device_id=2) as s2,
        modbus_sim(holding_registers=iem[3], device_id=3) as s3,
        modbus_sim(holding_registers=pulses[3], device_id=4) as s4,
    ):
        site = write_site(
            tmp_path,
            devices=[
                tcp_device("sdm", s1.port, "eastron-sdm630", unit=1),
                tcp_device("em24", s2.port, "carlo-gavazzi-em24", unit=2),
                tcp_device("iem", s3.port, "schneider-iem3155", unit=3),
                tcp_device("dio", s4.port, "isma-sfar-1m-4di", unit=4),
            ],
            meters=[
                meter("main", "sdm", multiplier=40),
                meter("shop", "em24"),
                meter("hvac", "iem"),
                meter("water", "dio", "cold_water", pulse_weight={"value": 10, "unit": "L"}),
                meter("heat", "dio", "heat", pulse_weight={"value": 500, "unit": "Wh"}),
            ],
            points=[
                point("main.energy", "main", "active_energy_import", "MWh"),
                point("main.voltage", "main", "voltage_l1"),
                point("main.current", "main", "current_l1"),
                point("shop.energy", "shop", "active_energy_import"),
                point("shop.voltage", "shop", "voltage_l1"),
                point("hvac.energy", "hvac", "active_energy_import", "MWh"),
                point("hvac.current", "hvac", "current_l1"),
                point("water.volume", "water", "counter_1", "m3"),
                point("heat.energy", "heat", "counter_2", "kWh"),
            ],
        )
        result = await poll_once(site, clock=clock)

    assert result.errors == {}
    got = {r.point_id: r.value for r in result.readings}
    assert got == {
        "main.energy": pytest.approx(1234.5 * 40 / 1000),  # CT 40, kWh -> MWh
        "main.voltage": pytest.approx(230.5),  # voltage is not CT-scaled
        "main.current": pytest.approx(2.5 * 40),
        "shop.energy": pytest.approx(5432.1),  # int32 x 0.1, low word first
        "shop.voltage": pytest.approx(231.2),
        "hvac.energy": pytest.approx(98.765432),  # int64 Wh in the meter -> kWh (profile) -> MWh (point)
        "water.volume": pytest.approx(15.0),  # 1500 pulses x 10 L
        "heat.energy": pytest.approx(3.5),  # 7 pulses x 500 Wh = 3500 Wh -> kWh
    }
    assert result.unavailable == {"iem": ["hvac.current"]}  # 0xFFC00000: "not available"
    assert {r.ts for r in result.readings} == {NOW}
    assert {r.source for r in result.readings} >= {"modbus:sdm", "modbus:dio"}
    assert all(h.online for h in result.health.values())
    # Only the registers the points use: SDM630 V+I (0..7) and energy (72, beyond max_gap 40); EM24 V (0)
    # and energy (52); iEM3155 I (2999) and energy (3203); the pulse module's two adjacent counters.
    assert (result.requests, result.registers) == (2 + 2 + 2 + 1, (8 + 2) + (2 + 2) + (2 + 4) + 4)
    assert result.as_json()["devices"]["sdm"]["online"] is True


async def test_device_limit_caps_registers_per_read(tmp_path: Path) -> None:
    image = meter_image("eastron-sdm630", {"voltage_l1": 230.0, "voltage_l2": 231.0, "voltage_l3": 232.0})
    async with modbus_sim(input_registers=image[4]) as sim:
        device = tcp_device("sdm", sim.port, "eastron-sdm630") | {"max_registers_per_read": 2}
        site = write_site(
            tmp_path,
            devices=[device],
            meters=[meter("m", "sdm")],
            points=[point(f"m.v{i}", "m", f"voltage_l{i}") for i in (1, 2, 3)],
        )
        result = await poll_once(site, clock=clock)
    assert sorted(r.value for r in result.readings) == [230.0, 231.0, 232.0]
    assert (result.requests, result.registers) == (3, 6)
