"""Engineering units the site model accepts, with their codes in BACnet and OPC UA.

The codes are plain data (BACnetEngineeringUnits, ANSI/ASHRAE 135 clause 21; UNECE Rec. 20 common
codes as OPC UA EUInformation) so the protocol adapters need no table of their own. docs/units.md
lists the table with the reasons behind the less obvious choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Quantity(StrEnum):
    ENERGY = "energy"
    POWER = "power"
    VOLUME = "volume"
    FLOW = "flow"
    TEMPERATURE = "temperature"
    VOLTAGE = "voltage"
    CURRENT = "current"
    FREQUENCY = "frequency"
    RATIO = "ratio"
    REACTIVE_ENERGY = "reactive_energy"
    APPARENT_ENERGY = "apparent_energy"
    REACTIVE_POWER = "reactive_power"
    APPARENT_POWER = "apparent_power"
    DIMENSIONLESS = "dimensionless"
    PULSES = "pulses"


@dataclass(frozen=True)
class UnitInfo:
    symbol: str
    quantity: Quantity
    to_base: float  # factor to the quantity's base unit (kWh, kW, m3, m3/h, ...)
    bacnet: int  # BACnetEngineeringUnits
    unece: str  # UNECE common code, used for OPC UA EUInformation
    description: str


def unece_unit_id(code: str) -> int:
    """OPC UA UnitId: the common code's characters packed big-endian (OPC 10000-8, 5.6.3)."""
    value = 0
    for char in code:
        value = (value << 8) | ord(char)
    return value


UNITS: dict[str, UnitInfo] = {
    u.symbol: u
    for u in (
        UnitInfo("Wh", Quantity.ENERGY, 0.001, 18, "WHR", "watt hour"),
        UnitInfo("kWh", Quantity.ENERGY, 1.0, 19, "KWH", "kilowatt hour"),
        UnitInfo("MWh", Quantity.ENERGY, 1000.0, 146, "MWH", "megawatt hour"),
        UnitInfo("MJ", Quantity.ENERGY, 1 / 3.6, 126, "3B", "megajoule"),
        UnitInfo("GJ", Quantity.ENERGY, 1000 / 3.6, 47925, "GV", "gigajoule"),
        UnitInfo("kvarh", Quantity.REACTIVE_ENERGY, 1.0, 204, "K3", "kilovolt ampere reactive hour"),
        UnitInfo("kVAh", Quantity.APPARENT_ENERGY, 1.0, 240, "C79", "kilovolt ampere hour"),
        UnitInfo("W", Quantity.POWER, 0.001, 47, "WTT", "watt"),
        UnitInfo("kW", Quantity.POWER, 1.0, 48, "KWT", "kilowatt"),
        UnitInfo("MW", Quantity.POWER, 1000.0, 49, "MAW", "megawatt"),
        UnitInfo("var", Quantity.REACTIVE_POWER, 0.001, 11, "D44", "volt ampere reactive"),
        UnitInfo("kvar", Quantity.REACTIVE_POWER, 1.0, 12, "KVR", "kilovolt ampere reactive"),
        UnitInfo("VA", Quantity.APPARENT_POWER, 0.001, 8, "D46", "volt ampere"),
        UnitInfo("kVA", Quantity.APPARENT_POWER, 1.0, 9, "KVA", "kilovolt ampere"),
        UnitInfo("m3", Quantity.VOLUME, 1.0, 80, "MTQ", "cubic metre"),
        UnitInfo("L", Quantity.VOLUME, 0.001, 82, "LTR", "litre"),
        UnitInfo("m3/h", Quantity.FLOW, 1.0, 135, "MQH", "cubic metre per hour"),
        UnitInfo("L/h", Quantity.FLOW, 0.001, 136, "E32", "litre per hour"),
        UnitInfo("degC", Quantity.TEMPERATURE, 1.0, 62, "CEL", "degree Celsius"),
        UnitInfo("K", Quantity.TEMPERATURE, 1.0, 121, "KEL", "kelvin (difference)"),
        UnitInfo("V", Quantity.VOLTAGE, 1.0, 5, "VLT", "volt"),
        UnitInfo("A", Quantity.CURRENT, 1.0, 3, "AMP", "ampere"),
        UnitInfo("Hz", Quantity.FREQUENCY, 1.0, 27, "HTZ", "hertz"),
        UnitInfo("%", Quantity.RATIO, 1.0, 98, "P1", "percent"),
        UnitInfo("%RH", Quantity.RATIO, 1.0, 29, "P1", "percent relative humidity"),
        UnitInfo("PF", Quantity.DIMENSIONLESS, 1.0, 15, "C62", "power factor"),
        UnitInfo("pulses", Quantity.PULSES, 1.0, 95, "C62", "pulse count"),
        UnitInfo("", Quantity.DIMENSIONLESS, 1.0, 95, "C62", "no unit"),
    )
}

# Quantities whose values are running totals: consumption is their difference, never a sum.
CUMULATIVE_QUANTITIES = frozenset(
    {Quantity.ENERGY, Quantity.VOLUME, Quantity.REACTIVE_ENERGY, Quantity.APPARENT_ENERGY, Quantity.PULSES}
)


def unit_info(symbol: str) -> UnitInfo:
    try:
        return UNITS[symbol]
    except KeyError:
        known = ", ".join(repr(s) for s in UNITS if s)
        raise ValueError(f"unknown unit {symbol!r}; known units: {known}") from None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between units of one quantity (kWh to MWh, L to m3, ...)."""
    src, dst = unit_info(from_unit), unit_info(to_unit)
    if src.quantity != dst.quantity:
        raise ValueError(f"cannot convert {from_unit} ({src.quantity}) to {to_unit} ({dst.quantity})")
    return value * src.to_base / dst.to_base
