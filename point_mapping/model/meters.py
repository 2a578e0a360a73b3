"""Meters (physical instruments) and metering points (the values bills and the BMS use)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, PositiveFloat, field_validator, model_validator

from point_mapping.model.common import Frozen, Id, UnitSymbol


class Resource(StrEnum):
    ELECTRICITY = "electricity"
    COLD_WATER = "cold_water"
    HOT_WATER = "hot_water"
    HEAT = "heat"
    COOLING = "cooling"
    GAS = "gas"

    @property
    def billing_unit(self) -> str:
        """The unit consumption of this resource is billed in."""
        return {"electricity": "kWh", "heat": "kWh", "cooling": "kWh"}.get(self.value, "m3")


class PulseWeight(Frozen):
    """What one pulse is worth, e.g. 10 L for a water meter's reed contact."""

    value: PositiveFloat
    unit: UnitSymbol


class Replacement(Frozen):
    """A meter exchange: consumption = (old final − old previous) + (new current − new initial)."""

    at: datetime
    old_final: float = Field(ge=0)
    new_initial: float = Field(ge=0)
    new_serial: str | None = None
    note: str = ""

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the replacement time with its UTC offset, e.g. 2025-03-04T10:30:00+01:00")
        return value


class Meter(Frozen):
    id: Id
    name: str = ""
    device: Id
    resource: Resource
    model: str = ""
    serial: str = ""
    multiplier: PositiveFloat = Field(default=1.0, description="CT/VT ratio applied to energy, power, current")
    pulse_weight: PulseWeight | None = None
    digits: int | None = Field(default=None, ge=1, le=12, description="dial register wraps at 10^digits")
    bits: Literal[16, 32, 48, 64] | None = Field(default=None, description="binary counter wraps at 2^bits")
    space: Id | None = Field(default=None, description="where the meter is installed")
    submeter_of: Id | None = None
    out_of_service: bool = False
    replacements: list[Replacement] = Field(default_factory=list)
    installed: date | None = Field(default=None, description="readings stamped before this day are rejected")
    max_per_hour: PositiveFloat | None = Field(
        default=None, description="plausibility cap in the resource's billing unit per hour (kWh/h, m3/h)"
    )
    rated_current_a: PositiveFloat | None = Field(
        default=None,
        description="electricity: the primary current the meter can see (CT primary when the meter applies the ratio)",
    )
    nominal_flow: PositiveFloat | None = Field(default=None, description="water/gas meters: Q3 in m3/h")
    nominal_power: PositiveFloat | None = Field(default=None, description="heat/cooling meters: rated kW")

    @model_validator(mode="after")
    def _one_rollover(self) -> Meter:
        if self.digits is not None and self.bits is not None:
            raise ValueError("give either 'digits' (dial register) or 'bits' (binary counter), not both")
        return self


BacnetObject = Literal["analog-input", "accumulator", "large-analog-value"]


class PointExposure(Frozen):
    """How a point appears in the BMS; explicit identifiers here win over the lock file."""

    enabled: bool = True
    bacnet_object: BacnetObject | None = Field(
        default=None, description="default: analog-input for instantaneous values, large-analog-value for totals"
    )
    bacnet_instance: int | None = Field(default=None, ge=0, le=4194302)
    opcua_node_id: str | None = Field(default=None, min_length=1, max_length=200)
    cov_increment: float | None = Field(default=None, ge=0)
    writable: bool = False


class Point(Frozen):
    """A metering point: one register of a meter, or a formula over other points (virtual)."""

    id: Id
    name: str = ""
    meter: Id | None = None
    register_name: Id | None = Field(default=None, alias="register", description="a register the device offers")
    formula: str | None = Field(default=None, description="e.g. '{A.main.energy} - {A1-01.energy}'")
    resource: Resource | None = Field(default=None, description="required for virtual points")
    unit: UnitSymbol | None = Field(default=None, description="unit the value is stored and shown in")
    space: Id | None = None
    always_on: bool = Field(default=False, description="a 24/7 load (server room): no after-hours finding")
    exposure: PointExposure = Field(default_factory=PointExposure)

    @model_validator(mode="after")
    def _physical_or_virtual(self) -> Point:
        physical = self.meter is not None or self.register_name is not None
        if physical and self.formula is not None:
            raise ValueError("a point is either physical (meter + register) or virtual (formula), not both")
        if physical and (self.meter is None or self.register_name is None):
            raise ValueError("a physical point needs both 'meter' and 'register'")
        if self.formula is not None and (self.resource is None or self.unit is None):
            raise ValueError("a virtual point needs 'resource' and 'unit'")
        if not physical and self.formula is None:
            raise ValueError("give 'meter' and 'register' (physical point) or 'formula' (virtual point)")
        return self

    @property
    def is_virtual(self) -> bool:
        return self.formula is not None
