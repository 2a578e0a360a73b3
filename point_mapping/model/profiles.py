"""Meter profiles: a device's Modbus register map as data.

A profile names each register in a shared vocabulary (`active_energy_import`, `voltage_l1`, ...) so a
site's YAML can say `register: active_energy_import` whatever the meter. This module only describes and
validates; decoding lives in `metering.decoding`, read planning in `metering.read_plan`.

Byte order is the order of the two bytes inside one 16-bit register ("big" is what the Modbus
Application Protocol v1.1b3 §4.2 prescribes); word order is the order of the registers of a value wider
than 16 bits ("big" = most significant register first). Meters disagree on the second, hence per-profile
defaults with a per-register override.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from point_mapping.model.common import ValueRange
from point_mapping.units import CUMULATIVE_QUANTITIES, UNITS, unit_info

DataType = Literal["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
Order = Literal["big", "little"]
Kind = Literal["cumulative", "instantaneous"]
FunctionCode = Literal[3, 4]

# 16-bit registers per value of each data type.
REGISTER_COUNTS: dict[str, int] = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "int64": 4,
    "uint64": 4,
    "float32": 2,
    "float64": 4,
}

# Register type names as meter manuals write them (3x = input, 4x = holding).
FUNCTION_CODE_NAMES: dict[str, int] = {"holding": 3, "input": 4}

# Modbus Application Protocol v1.1b3 §6.3/§6.4: FC3/FC4 read 1..125 registers per request.
MODBUS_MAX_READ = 125
ADDRESS_SPACE = 65536

RegisterName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
ProfileId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


def kind_of_unit(symbol: str) -> Kind:
    """Running totals (energy, volume, pulses) are cumulative; everything else is a sample."""
    return "cumulative" if unit_info(symbol).quantity in CUMULATIVE_QUANTITIES else "instantaneous"


class RegisterSpec(BaseModel):
    """One value of a meter: where it is, how it is encoded, and what it means."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    function_code: FunctionCode
    address: int = Field(ge=0, le=ADDRESS_SPACE - 1, description="0-based protocol address")
    data_type: DataType
    word_order: Order | None = None  # None: the profile's default
    byte_order: Order | None = None
    scale: float = 1.0  # engineering value = raw * scale + offset
    offset: float = 0.0
    unit: str
    kind: Kind = "instantaneous"  # derived from the unit unless given
    # Raw bit patterns meaning "not available", e.g. 0x8000 for int16, 0xFFFFFFFF for uint32.
    # Negative numbers are accepted for signed types and mean the same bit pattern.
    sentinels: tuple[int, ...] = ()
    description: str = ""
    # what the register shows in normal operation, in `unit` (datasheet measuring range); for the BMS
    range: ValueRange | None = None

    @field_validator("function_code", mode="before")
    @classmethod
    def _function_by_name(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in FUNCTION_CODE_NAMES:
            return FUNCTION_CODE_NAMES[value.strip().lower()]
        return value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        unit_info(value)  # raises ValueError listing the known symbols
        return value

    @model_validator(mode="before")
    @classmethod
    def _derive_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") is None:
            unit = data.get("unit")
            if isinstance(unit, str) and unit in UNITS:
                data = {**data, "kind": kind_of_unit(unit)}
        return data

    @model_validator(mode="after")
    def _cross_field(self) -> RegisterSpec:
        # All cross-field rules live here, once (cf. Home Assistant modbus validators.py).
        count = self.register_count
        if self.address + count > ADDRESS_SPACE:
            raise ValueError(
                f"{self.data_type} at address {self.address} needs {count} registers and runs past "
                f"the last address {ADDRESS_SPACE - 1}"
            )
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        bits = 16 * count
        for sentinel in self.sentinels:
            if not -(1 << (bits - 1)) <= sentinel < (1 << bits):
                raise ValueError(f"sentinel {sentinel:#x} does not fit in {bits} bits ({self.data_type})")
        if self.kind == "cumulative" and kind_of_unit(self.unit) != "cumulative":
            raise ValueError(f"a {self.unit!r} value cannot be cumulative; only running totals can")
        return self

    @property
    def register_count(self) -> int:
        return REGISTER_COUNTS[self.data_type]

    @property
    def end(self) -> int:
        """First address after this value."""
        return self.address + self.register_count


class MeterRating(BaseModel):
    """What the meter can physically measure, from its datasheet: the basis of the plausibility cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_current_a: float = Field(gt=0, description="Imax per phase (for CT meters: of the secondary)")
    voltage_v: float = Field(gt=0, description="nominal phase-to-neutral voltage")
    phases: Literal[1, 2, 3]


class MeterProfile(BaseModel):
    """A device model's register map, shipped as YAML under `metering/profiles/` or given by a site."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ProfileId
    manufacturer: str
    model: str
    description: str = ""
    source: str = Field(min_length=1, description="the register map document and a cross-check")
    max_registers_per_read: int = Field(default=MODBUS_MAX_READ, ge=1, le=MODBUS_MAX_READ)
    # Undefined registers a single read may span to join two values. 0 is the safe default: some
    # meters answer exception 02 (illegal data address) to a read that touches an undefined register.
    max_gap: int = Field(default=0, ge=0, le=MODBUS_MAX_READ - 1)
    byte_order: Order = "big"
    word_order: Order = "big"
    registers: dict[RegisterName, RegisterSpec] = Field(min_length=1)
    rating: MeterRating | None = None

    @model_validator(mode="after")
    def _registers_readable(self) -> MeterProfile:
        for name, spec in self.registers.items():
            if spec.register_count > self.max_registers_per_read:
                raise ValueError(
                    f"register {name!r} needs {spec.register_count} registers but this meter reads at "
                    f"most {self.max_registers_per_read} per request"
                )
        return self

    def orders(self, name: str) -> tuple[Order, Order]:
        """(byte_order, word_order) of a register, its own override winning over the profile's."""
        spec = self.registers[name]
        return spec.byte_order or self.byte_order, spec.word_order or self.word_order
