"""The smallest change a point's stored value can show: one step of its register, after CT ratio or pulse weight.

An integer register with `scale: 0.1` kWh behind a CT of 60 moves in steps of 6 kWh; a pulse input in
steps of one pulse weight; an LPWAN field of an integer payload in steps of its `scale`. A float
register has no fixed step worth stating (None), nor does a manual reading or a virtual point. The
stuck-meter rule uses it: a register that cannot show less than one step shows zero for as long as
less than a step has flowed, and that is no fault (docs/anomalies.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from point_mapping.model import (
    LpwanConnection,
    MeterProfile,
    ModbusRtuConnection,
    ModbusTcpConnection,
    Point,
    SiteModel,
)
from point_mapping.model.devices import ByteField
from point_mapping.registers import point_measure
from point_mapping.units import convert

_FLOATS = ("float32", "float64")


def register_step(site: SiteModel, point: Point, profiles: Mapping[str, MeterProfile]) -> float | None:
    """One register step of a physical cumulative point, in the point's unit; None where there is none."""
    if point.meter is None or point.register_name is None:
        return None
    meter = site.meter_by_id.get(point.meter)
    device = site.device_by_id.get(meter.device) if meter is not None else None
    measure = point_measure(site, point, profiles)
    if device is None or measure is None or not measure.cumulative:
        return None
    connection = device.connection
    raw: float | None = None
    if isinstance(connection, ModbusTcpConnection | ModbusRtuConnection):
        spec = profiles.get(device.profile or "")
        register = spec.registers.get(point.register_name) if spec is not None else None
        if register is not None and register.data_type not in _FLOATS:
            raw = abs(register.scale)
    elif isinstance(connection, LpwanConnection):
        field = next((f for f in connection.decoder.fields if f.name == point.register_name), None)
        if isinstance(field, ByteField):
            raw = abs(field.scale)
    if raw is None:
        return None
    return abs(convert(raw * measure.multiplier, measure.source_unit, measure.unit))


def register_steps(site: SiteModel, profiles: Mapping[str, MeterProfile]) -> dict[str, float]:
    """Per point id, its register step (points without one are left out)."""
    found: dict[str, float] = {}
    for point in site.points:
        step = register_step(site, point, profiles)
        if step is not None and step > 0:
            found[point.id] = step
    return found
