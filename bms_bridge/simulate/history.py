"""Simulated history: the readings the poller would have stored had it run since `start`.

Every physical cumulative point of a Modbus meter (energy registers, pulse counters) gets one reading
at each 15-minute boundary, computed through the same register encoding the live simulator serves, so
a demo database filled with history continues without a step when live polling starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from bms_bridge.simulate.load_model import EPOCH, STEP, LoadModel
from bms_bridge.simulate.registers import MeterRegisters
from metering.readings import Quality, Reading
from metering.trends import TrendSample
from point_mapping.loader import LoadedSite
from point_mapping.model import LpwanConnection, ManualConnection, ModbusRtuConnection, ModbusTcpConnection, Point
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


def lpwan_history(site: LoadedSite, start: datetime, end: datetime, model: LoadModel) -> Iterator[Reading]:
    """Readings of the LPWAN meters as their uplinks would have delivered them, one per expected interval.

    Each simulated uplink goes through the real ChirpStack parser and payload decoder, so history and live
    uplinks cannot disagree on scaling.
    """
    from bms_bridge.simulate.lpwan_uplinks import uplink
    from metering.lpwan import parse_chirpstack_v4, uplink_readings

    for device in site.model.devices:
        if not isinstance(device.connection, LpwanConnection) or not device.enabled:
            continue
        step = device.connection.expected_interval
        t = EPOCH + step * -((EPOCH - max(start, EPOCH)) // step)
        while t <= end:
            message = uplink(site.model, model, device, t).payload
            yield from uplink_readings(site.model, parse_chirpstack_v4(message, t), site.profiles)
            t += step


def manual_history(site: LoadedSite, start: datetime, end: datetime, model: LoadModel) -> Iterator[Reading]:
    """A notebook reading of every manual meter on the first working morning of each month, 09:00 local."""
    zone = site.model.site.zone
    points = [
        p
        for p in site.model.points
        if p.meter is not None
        and isinstance(site.model.device_by_id[site.model.meter_by_id[p.meter].device].connection, ManualConnection)
    ]
    month = start.astimezone(zone).date().replace(day=1)
    while True:
        day = month
        while day.weekday() >= 5:  # the engineer walks the plant rooms on a working day
            day += timedelta(days=1)
        t = datetime.combine(day, time(9), zone)
        if t > end:
            return
        if t >= start:
            for point in points:
                yield Reading(point.id, t, round(model.cumulative(point.id, t), 1), Quality.MANUAL, "manual:notebook")
        month = (month + timedelta(days=32)).replace(day=1)


def bms_history(site: LoadedSite, start: datetime, end: datetime, model: LoadModel) -> Iterator[TrendSample]:
    """The simulated BMS's trends at every 15-minute boundary in [start, end], typed by object type."""
    from bms_bridge.simulate.bms_plant import BmsPlant, kind_of

    plant = BmsPlant(site.model, model)
    kinds = {p.id: kind_of(p) for p in plant.points}
    t = EPOCH + STEP * -((EPOCH - max(start, EPOCH)) // STEP)
    while t <= end:
        for point_id, value in plant.values(t).items():
            kind = kinds[point_id]
            if kind is not None:
                yield TrendSample(point_id, t, kind, value)
        t += STEP
