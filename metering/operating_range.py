"""The range a point's value takes in normal operation, from what the site model knows of its meter.

The BMS uses it to scale displays (OPC UA EURange, OPC 10000-8 5.3.2.4: "the value range likely to be
obtained in normal operation"; BACnet Min_Pres_Value/Max_Pres_Value). In order of preference:
1. the point's own `exposure.range` in YAML (the integrator knows best);
2. the register's `range` in the meter profile (the datasheet's measuring range), scaled by the CT ratio;
3. derived from the meter's rating: electricity power, current and voltage from the profile's `rating`
   or the meter's `rated_current_a` (the same U × I the plausibility cap uses), water and gas flow from
   `nominal_flow` (up to the overload flow Q4 = 1.25 × Q3, EN ISO 4064), heat power from `nominal_power`;
   a power factor is always within [-1, 1].
Running totals have no operating range (they only grow), and neither has a value we know nothing
about: None then, which the adapters publish as unbounded rather than inventing a scale.
"""

from __future__ import annotations

from point_mapping.model import Meter, MeterProfile, Point
from point_mapping.model.meters import Resource
from point_mapping.registers import PointMeasure
from point_mapping.units import Quantity, convert, unit_info

# EN ISO 4064: the overload flow Q4 a water meter can pass for a short time is 1.25 × its Q3
OVERLOAD_FLOW = 1.25
# EN 50160: supply voltage within ±10 % of nominal; the upper end of a voltage display gets a margin
VOLTAGE_MARGIN = 1.2
_EUROPEAN_PHASE_VOLTAGE = 230.0


def operating_range(
    point: Point, meter: Meter | None, profile: MeterProfile | None, measure: PointMeasure
) -> tuple[float, float] | None:
    """(low, high) in the point's unit, or None when nothing says what the value's range is."""
    if point.exposure.range is not None:
        return point.exposure.range.bounds
    if measure.cumulative or meter is None:
        return None
    spec = profile.registers.get(point.register_name or "") if profile is not None else None
    if spec is not None and spec.range is not None:
        low, high = (v * measure.multiplier for v in spec.range.bounds)
        return (convert(low, measure.source_unit, measure.unit), convert(high, measure.source_unit, measure.unit))
    return _from_rating(meter, profile, measure.unit)


def _from_rating(meter: Meter, profile: MeterProfile | None, unit: str) -> tuple[float, float] | None:
    info = unit_info(unit)
    quantity = info.quantity
    if quantity is Quantity.DIMENSIONLESS and unit == "PF":
        return (-1.0, 1.0)
    base: tuple[float, float] | None = None  # in the quantity's base unit (kW, kvar, kVA, A, V, m3/h)
    if meter.resource is Resource.ELECTRICITY:
        base = _electrical(meter, profile, quantity)
    elif quantity is Quantity.FLOW and meter.nominal_flow is not None:
        base = (0.0, meter.nominal_flow * OVERLOAD_FLOW)
    elif quantity is Quantity.POWER and meter.nominal_power is not None:
        base = (0.0, meter.nominal_power)
    if base is None:
        return None
    return (base[0] / info.to_base, base[1] / info.to_base)


def _electrical(meter: Meter, profile: MeterProfile | None, quantity: Quantity) -> tuple[float, float] | None:
    rating = profile.rating if profile is not None else None
    if rating is None and meter.rated_current_a is None:
        return None
    # `rated_current_a` is the primary side already; a profile's current is the meter's own (secondary)
    current = meter.rated_current_a or (rating.max_current_a * meter.multiplier if rating else 0.0)
    voltage = rating.voltage_v if rating else _EUROPEAN_PHASE_VOLTAGE
    phases = rating.phases if rating else 3
    power = current * voltage * phases / 1000.0  # kW, kVA or kvar at full load and nominal voltage
    if quantity in (Quantity.POWER, Quantity.APPARENT_POWER):
        return (0.0, power)
    if quantity is Quantity.REACTIVE_POWER:
        return (-power, power)  # inductive or capacitive
    if quantity is Quantity.CURRENT:
        return (0.0, current)
    if quantity is Quantity.VOLTAGE:
        return (0.0, voltage * VOLTAGE_MARGIN)
    return None
