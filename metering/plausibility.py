"""Plausibility caps: the most a meter can physically register in an hour (docs/vee.md, "Caps").

A step above the cap is a fault, never consumption. The cap is derived from the meter itself:
- electricity: CT ratio × rated maximum current × nominal voltage × phases, from the profile's
  `rating` (or the meter's `rated_current_a`, the primary current of a meter that applies its CT
  ratio itself), with `RATING_MARGIN` for the voltage tolerance (EN 50160: ±10 %) and the meter's class;
- water and gas: `nominal_flow` (Q3, m3/h) × `FLOW_MARGIN` (EN ISO 4064: the overload flow Q4 is
  1.25 × Q3, so a meter cannot register twice its Q3 for long);
- heat and cooling: `nominal_power` (kW) × `FLOW_MARGIN`;
- otherwise a generous resource default, so every meter has a cap; `max_per_hour` in YAML wins.
Caps are in the resource's billing unit per hour (kWh/h or m3/h) and converted to the point's unit.
"""

from __future__ import annotations

from point_mapping.model import Meter, MeterProfile
from point_mapping.model.meters import Resource
from point_mapping.units import Quantity, unit_info

RATING_MARGIN = 1.2
FLOW_MARGIN = 2.0
# Above what the largest meter of a typical commercial building registers (a 2 MW feeder, a DN100
# water main at Q3 = 63 m3/h, a 5 MW heat substation); used when the meter gives nothing better.
DEFAULT_CAPS: dict[Resource, float] = {
    Resource.ELECTRICITY: 2000.0,
    Resource.COLD_WATER: 130.0,
    Resource.HOT_WATER: 130.0,
    Resource.HEAT: 5000.0,
    Resource.COOLING: 5000.0,
    Resource.GAS: 1000.0,
}
# Reactive and apparent energy are bounded by the same U × I as active energy.
_ENERGY_LIKE = frozenset({Quantity.ENERGY, Quantity.REACTIVE_ENERGY, Quantity.APPARENT_ENERGY})


def meter_cap(meter: Meter, profile: MeterProfile | None) -> float:
    """The meter's cap in its resource's billing unit per hour (kWh/h or m3/h)."""
    if meter.max_per_hour is not None:
        return meter.max_per_hour
    if meter.resource is Resource.ELECTRICITY and profile is not None and profile.rating is not None:
        rating = profile.rating
        # `rated_current_a` is the primary side: the ratio is already in it (programmed into the meter)
        current = meter.rated_current_a or rating.max_current_a * meter.multiplier
        return current * rating.voltage_v * rating.phases / 1000.0 * RATING_MARGIN
    if meter.resource is Resource.ELECTRICITY and meter.rated_current_a is not None:
        # no profile rating: assume three phases at 230 V, the European low-voltage supply (EN 50160)
        return meter.rated_current_a * 230.0 * 3 / 1000.0 * RATING_MARGIN
    if meter.nominal_flow is not None and meter.resource in (Resource.COLD_WATER, Resource.HOT_WATER, Resource.GAS):
        return meter.nominal_flow * FLOW_MARGIN
    if meter.nominal_power is not None and meter.resource in (Resource.HEAT, Resource.COOLING):
        return meter.nominal_power * FLOW_MARGIN
    return DEFAULT_CAPS[meter.resource]


def point_cap(meter: Meter, profile: MeterProfile | None, point_unit: str) -> float | None:
    """The cap in `point_unit` per hour, or None when the point's quantity is not the cap's (e.g. pulses)."""
    quantity = unit_info(point_unit).quantity
    cap = meter_cap(meter, profile)
    billing = unit_info(meter.resource.billing_unit)
    same = quantity in _ENERGY_LIKE if billing.quantity is Quantity.ENERGY else quantity is billing.quantity
    if not same:
        return None
    return cap * billing.to_base / unit_info(point_unit).to_base
