"""Simulated history: the readings the poller would have stored had it run since `start`.

Every physical cumulative point of a Modbus meter (energy registers, pulse counters) gets one reading
at each 15-minute boundary, computed through the same register encoding the live simulator serves, so
a demo database filled with history continues without a step when live polling starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from bms_bridge.simulate.load_model import EPOCH, STEP, LoadModel
from bms_bridge.simulate.registers import MeterRegisters
from metering.readings import Quality, Reading
from point_mapping.loader import LoadedSite
from point_mapping.model import ModbusRtuConnection, ModbusTcpConnection, Point
from point_mapping.registers import point_measure


def history_points(site: LoadedSite) -> list[Point]:
    """Physical cumulative points of Modbus devices, in site order."""
    model = site.model
    found: list[Point] = []
    for point in model.points:
        if point.is_virtual or point.meter is None:
            continue
        device = model.device_by_id[model.meter_by_id[point.meter].device]
        if not isinstance(device.connection, ModbusTcpConnection | ModbusRtuConnection):
            continue
        measure = point_measure(model, point, site.profiles)
        if measure is not None and measure.cumulative:
            found.append(point)
    return found


def simulated_history(
    site: LoadedSite, start: datetime, end: datetime, model: LoadModel | None = None
) -> Iterator[Reading]:
    """Readings at every 15-minute boundary in [start, end], in time order, values in each point's unit."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("give start and end as aware datetimes")
    model = model or LoadModel(site.model)
    registers = MeterRegisters(site.model, site.profiles, model)
    points = history_points(site)
    sources = {p.id: f"modbus:{site.model.meter_by_id[p.meter or ''].device}" for p in points}
    # first boundary at or after start
    steps = -((EPOCH - max(start, EPOCH)) // STEP)
    t = EPOCH + STEP * steps
    while t <= end:
        for point in points:
            yield Reading(point.id, t, registers.poller_value(point.id, t), Quality.MEASURED, sources[point.id])
        t += STEP
