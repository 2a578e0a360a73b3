"""What each device offers (named registers) and what each point therefore measures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from point_mapping.model import (
    Device,
    LpwanConnection,
    ManualConnection,
    MeterProfile,
    Point,
    SiteModel,
)
from point_mapping.units import CUMULATIVE_QUANTITIES, unit_info

MANUAL_REGISTER = "reading"


@dataclass(frozen=True)
class RegisterInfo:
    name: str
    unit: str
    cumulative: bool


def registers_of(device: Device, profiles: Mapping[str, MeterProfile]) -> dict[str, RegisterInfo]:
    """Named registers a device offers; empty when its profile is unknown (reported elsewhere)."""
    connection = device.connection
    if isinstance(connection, ManualConnection):
        cumulative = unit_info(connection.unit).quantity in CUMULATIVE_QUANTITIES
        return {MANUAL_REGISTER: RegisterInfo(MANUAL_REGISTER, connection.unit, cumulative)}
    if isinstance(connection, LpwanConnection):
        return {f.name: RegisterInfo(f.name, f.unit, f.cumulative) for f in connection.decoder.fields}
    profile = profiles.get(device.profile or "")
    if profile is None:
        return {}
    return {name: RegisterInfo(name, spec.unit, spec.kind == "cumulative") for name, spec in profile.registers.items()}


@dataclass(frozen=True)
class PointMeasure:
    """What a point's values are: unit after pulse weight, and whether they are running totals."""

    source_unit: str  # unit of the value read (after pulse weight), before conversion to `unit`
    unit: str
    cumulative: bool
    multiplier: float  # applied to the raw value (CT ratio or pulse weight)


def point_measure(site: SiteModel, point: Point, profiles: Mapping[str, MeterProfile]) -> PointMeasure | None:
    """None when the point refers to something that does not exist (reported by the reference checks)."""
    if point.is_virtual:
        assert point.unit is not None
        return PointMeasure(point.unit, point.unit, True, 1.0)
    meter = site.meter_by_id.get(point.meter or "")
    device = site.device_by_id.get(meter.device) if meter else None
    if meter is None or device is None:
        return None
    register = registers_of(device, profiles).get(point.register_name or "")
    if register is None:
        return None
    source_unit, multiplier = register.unit, 1.0
    if register.unit == "pulses" and meter.pulse_weight is not None:
        source_unit, multiplier = meter.pulse_weight.unit, meter.pulse_weight.value
    elif unit_info(register.unit).quantity.value in _CT_SCALED:
        multiplier = meter.multiplier
    return PointMeasure(source_unit, point.unit or source_unit, register.cumulative, multiplier)


# A current transformer scales current and everything derived from it, not voltage or frequency.
_CT_SCALED = frozenset(
    {
        "energy",
        "power",
        "current",
        "reactive_energy",
        "apparent_energy",
        "reactive_power",
        "apparent_power",
    }
)
