"""Decoded registers to point readings: CT ratio, pulse weight, unit conversion, NaN, out of service."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.point_values import point_readings, point_values, registers_wanted
from metering.readings import Quality
from tests.modbus.sites import meter, point, tcp_device, write_site

TS = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    return write_site(
        tmp_path,
        devices=[tcp_device("em", 5020, "eastron-sdm630"), tcp_device("pulse", 5021, "isma-sfar-1m-4di")],
        meters=[
            meter("main", "em", multiplier=40),
            meter("spare", "em", out_of_service=True),
            meter("water", "pulse", "cold_water", pulse_weight={"value": 10, "unit": "L"}),
            meter("heat", "pulse", "heat", pulse_weight={"value": 500, "unit": "Wh"}),
        ],
        points=[
            point("main.energy", "main", "active_energy_import", "MWh"),
            point("main.voltage", "main", "voltage_l1"),
            point("main.current", "main", "current_l1"),
            point("spare.energy", "spare", "active_energy_export"),
            point("water.volume", "water", "counter_1", "m3"),
            point("heat.energy", "heat", "counter_2", "kWh"),
        ],
    )


def test_ct_ratio_scales_energy_and_current_not_voltage(site) -> None:  # type: ignore[no-untyped-def]
    decoded = {"active_energy_import": 1234.5, "voltage_l1": 230.0, "current_l1": 2.5}
    got = {r.point_id: r for r in point_readings(site.model, "em", decoded, TS, site.profiles)}
    assert got["main.energy"].value == pytest.approx(1234.5 * 40 / 1000)  # kWh x CT 40, in MWh
    assert got["main.voltage"].value == 230.0
    assert got["main.current"].value == pytest.approx(100.0)
    assert {r.ts for r in got.values()} == {TS}
    assert {r.source for r in got.values()} == {"modbus:em"}
    assert {r.quality for r in got.values()} == {Quality.MEASURED}


def test_pulse_weight_and_unit_conversion(site) -> None:  # type: ignore[no-untyped-def]
    got = {
        r.point_id: r.value
        for r in point_readings(site.model, "pulse", {"counter_1": 1500.0, "counter_2": 7.0}, TS, site.profiles)
    }
    assert got["water.volume"] == pytest.approx(15.0)  # 1500 pulses x 10 L = 15 m3
    assert got["heat.energy"] == pytest.approx(3.5)  # 7 x 500 Wh = 3.5 kWh


def test_not_available_and_unread_registers_are_reported_not_read(site) -> None:  # type: ignore[no-untyped-def]
    values = point_values(site.model, "em", {"active_energy_import": None, "voltage_l1": 230.0}, TS, site.profiles)
    assert [r.point_id for r in values.readings] == ["main.voltage"]
    assert values.unavailable == ("main.energy",)
    assert values.missing == ("main.current",)


def test_out_of_service_meter_is_neither_read_nor_reported(site) -> None:  # type: ignore[no-untyped-def]
    assert registers_wanted(site.model, "em") == ["active_energy_import", "voltage_l1", "current_l1"]
    values = point_values(site.model, "em", {"active_energy_export": 5.0}, TS, site.profiles)
    assert "spare.energy" not in {r.point_id for r in values.readings} | set(values.missing)


def test_values_are_those_of_convert_to_the_last_bit(site) -> None:  # type: ignore[no-untyped-def]
    # point_sources works the unit factors out once; the arithmetic must stay convert()'s own.
    from metering.point_values import point_sources
    from point_mapping.units import convert

    for device, decoded in [
        ("em", {"active_energy_import": 1234.567, "voltage_l1": 229.9, "current_l1": 0.3}),
        ("pulse", {"counter_1": 1501.0, "counter_2": 7.0}),
    ]:
        sources = {s.point_id: s for s in point_sources(site.model, device, site.profiles)}
        for reading in point_values(site.model, device, decoded, TS, site.profiles).readings:
            measure = sources[reading.point_id].measure
            assert measure is not None
            raw = decoded[sources[reading.point_id].register]
            expected = convert(raw * measure.multiplier, measure.source_unit, measure.unit)
            assert reading.value.hex() == expected.hex(), reading.point_id
