"""Profile schema rules and the builtin profiles shipped as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from metering.profiles import (
    CANONICAL_REGISTERS,
    COUNTER_PREFIX,
    builtin_profiles,
    load_profile_file,
    merge_profiles,
)
from point_mapping.errors import SiteInvalid
from point_mapping.model.profiles import MeterProfile, RegisterSpec

ELECTRICITY = ["eastron-sdm630", "eastron-sdm120", "carlo-gavazzi-em24", "schneider-iem3155"]


def register(**extra: Any) -> RegisterSpec:
    return RegisterSpec.model_validate(
        {"function_code": "holding", "address": 0, "data_type": "uint32", "unit": "kWh", **extra}
    )


def test_function_code_by_name_or_number() -> None:
    assert register(function_code="input").function_code == 4
    assert register(function_code="Holding").function_code == 3
    assert register(function_code=4).function_code == 4
    with pytest.raises(ValidationError):
        register(function_code="coil")
    with pytest.raises(ValidationError):
        register(function_code=6)


def test_kind_follows_unit() -> None:
    assert register(unit="kWh").kind == "cumulative"
    assert register(unit="pulses").kind == "cumulative"
    assert register(unit="kW").kind == "instantaneous"
    assert register(unit="kWh", kind="instantaneous").kind == "instantaneous"
    with pytest.raises(ValidationError, match="cannot be cumulative"):
        register(unit="kW", kind="cumulative")


def test_unknown_unit_lists_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown unit 'kwh'; known units: .*'kWh'"):
        register(unit="kwh")


def test_address_range_and_register_count() -> None:
    assert register(address=65534, data_type="uint32").end == 65536
    with pytest.raises(ValidationError, match="runs past the last address 65535"):
        register(address=65533, data_type="float64")
    with pytest.raises(ValidationError):
        register(address=65536, data_type="uint16")


def test_sentinels_must_fit_the_type() -> None:
    assert register(data_type="int16", sentinels=[-32768, 0x8000]).sentinels == (-32768, 0x8000)
    with pytest.raises(ValidationError, match="does not fit in 16 bits"):
        register(data_type="uint16", sentinels=[0x10000])


def test_models_are_frozen_and_strict() -> None:
    spec = register()
    with pytest.raises(ValidationError):
        spec.address = 5  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        register(adress=3)
    with pytest.raises(ValidationError):
        register(scale=0)


def test_every_builtin_loads_and_cites_a_source() -> None:
    profiles = builtin_profiles()
    assert set(profiles) == {*ELECTRICITY, "isma-sfar-1m-4di", "generic"}
    assert builtin_profiles() is profiles  # loaded once
    for profile in profiles.values():
        assert len(profile.source) > 40, profile.id
        assert 1 <= profile.max_registers_per_read <= 125


@pytest.mark.parametrize("profile_id", ELECTRICITY)
def test_electricity_meters_use_canonical_names_and_units(profile_id: str) -> None:
    profile = builtin_profiles()[profile_id]
    for name in ("active_energy_import", "active_energy_export", "active_power", "voltage_l1", "current_l1"):
        assert name in profile.registers, name
    for name, spec in profile.registers.items():
        if name in CANONICAL_REGISTERS:
            assert spec.unit == CANONICAL_REGISTERS[name], name
    assert profile.registers["active_energy_import"].kind == "cumulative"
    assert profile.registers["active_power"].kind == "instantaneous"


def test_three_phase_meters_have_all_phases() -> None:
    for profile_id in ("eastron-sdm630", "carlo-gavazzi-em24", "schneider-iem3155"):
        names = builtin_profiles()[profile_id].registers
        assert {f"{q}_l{p}" for q in ("voltage", "current") for p in (1, 2, 3)} <= set(names)
        assert {"frequency", "reactive_energy_import"} <= set(names)


def test_pulse_counter_channels() -> None:
    profile = builtin_profiles()["isma-sfar-1m-4di"]
    assert list(profile.registers) == [f"{COUNTER_PREFIX}{i}" for i in range(1, 5)]
    assert all(s.unit == "pulses" and s.kind == "cumulative" for s in profile.registers.values())


def test_documented_addresses() -> None:
    sdm630 = builtin_profiles()["eastron-sdm630"].registers["active_energy_import"]
    assert (sdm630.function_code, sdm630.address, sdm630.data_type) == (4, 0x0048, "float32")  # 30073
    em24 = builtin_profiles()["carlo-gavazzi-em24"]
    assert em24.registers["active_energy_import"].address == 0x0034
    assert em24.orders("active_energy_import") == ("big", "little")
    iem = builtin_profiles()["schneider-iem3155"].registers["active_energy_import"]
    assert (iem.function_code, iem.address, iem.data_type, iem.scale) == (3, 3203, "int64", 0.001)  # 3204


def test_merge_rejects_shadowing_a_builtin() -> None:
    builtin = builtin_profiles()
    mine = builtin["generic"].model_copy(update={"id": "my-meter"})
    merged = merge_profiles(builtin, [mine])
    assert merged["my-meter"] is mine and set(builtin) < set(merged)
    shadow = builtin["generic"].model_copy(update={"id": "eastron-sdm630"})
    with pytest.raises(ValueError, match="'eastron-sdm630' has the id of a builtin profile"):
        merge_profiles(builtin, {"x": shadow})
    with pytest.raises(ValueError, match="defined twice"):
        merge_profiles(builtin, [mine, mine])


def test_load_profile_file_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: bad\nmanufacturer: x\nmodel: y\nsource: s\nregisters:\n"
        "  voltage_l1: {function_code: input, address: 0, data_type: float32, unit: volt}\n",
        encoding="utf-8",
    )
    with pytest.raises(SiteInvalid) as caught:
        load_profile_file(path)
    message = str(caught.value)
    assert f"{path}:6:" in message and "unknown unit 'volt'" in message


def test_load_profile_file_rejects_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        "id: dup\nmanufacturer: x\nmodel: y\nsource: s\nregisters:\n"
        "  a: {function_code: input, address: 0, data_type: float32, unit: V}\n"
        "  a: {function_code: input, address: 2, data_type: float32, unit: V}\n",
        encoding="utf-8",
    )
    with pytest.raises(SiteInvalid, match=r"dup\.yaml:7:3: duplicate key 'a'"):
        load_profile_file(path)


def test_profile_needs_registers_that_fit_one_read() -> None:
    with pytest.raises(ValidationError, match="reads at most 2 per request"):
        MeterProfile.model_validate(
            {
                "id": "tiny",
                "manufacturer": "x",
                "model": "y",
                "source": "s",
                "max_registers_per_read": 2,
                "registers": {"e": {"function_code": 3, "address": 0, "data_type": "int64", "unit": "Wh"}},
            }
        )
