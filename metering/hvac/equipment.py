"""Equipment as the rules see it (roles → points) and the values of its points at an instant."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from metering.trends import TrendSample

HEATING_VALVE = "heating-valve"
COOLING_VALVE = "cooling-valve"
OA_DAMPER = "outdoor-air-damper"
FAN_STATUS = "fan-status"
FAN_SPEED = "fan-speed"
HEATING_SETPOINT = "heating-setpoint"
COOLING_SETPOINT = "cooling-setpoint"
OPERATING_MODE = "operating-mode"


@dataclass(frozen=True, slots=True)
class MeterShare:
    """A cumulative energy point whose consumption an equipment's conflicts waste, and its share of it."""

    point_id: str
    unit: str
    share: float = 1.0
    resource: str = ""  # "heat", "cooling", "electricity", ...: the meter-based zone rule needs heat and cooling


@dataclass(frozen=True, slots=True)
class Equipment:
    id: str
    kind: str  # "ahu" | "fcu" | "perimeter-heating" | ...
    zone: str | None
    points: Mapping[str, str]  # role -> point id
    tenants: tuple[str, ...] = ()
    meters: tuple[MeterShare, ...] = ()
    schedule_point: str | None = None  # the BMS Schedule object's point id, if any

    def has(self, *roles: str) -> bool:
        return all(role in self.points for role in roles)


@dataclass(frozen=True)
class Trends:
    """Samples per point in time order; the value at an instant is the last one no older than `max_age`."""

    series: Mapping[str, Sequence[TrendSample]]
    max_age: timedelta
    _times: dict[str, list[datetime]] = field(default_factory=dict, init=False, repr=False)

    def value(self, point_id: str, at: datetime) -> float | None:
        samples = self.series.get(point_id)
        if not samples:
            return None
        times = self._times.get(point_id)
        if times is None:
            times = self._times[point_id] = [s.ts for s in samples]
        i = bisect_right(times, at) - 1
        if i < 0 or at - times[i] > self.max_age:
            return None
        return samples[i].value


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One equipment's values at one instant; None where the point has no recent value."""

    equipment: Equipment
    ts: datetime
    values: Mapping[str, float | None]

    def get(self, role: str) -> float | None:
        return self.values.get(role)

    def evidence(self) -> dict[str, float]:
        return {self.equipment.points[r]: v for r, v in self.values.items() if v is not None}


def snapshot(equipment: Equipment, trends: Trends, at: datetime) -> Snapshot:
    return Snapshot(equipment, at, {role: trends.value(point, at) for role, point in equipment.points.items()})


def running(snap: Snapshot) -> bool | None:
    """Whether the equipment runs: fan status first, fan speed next; None when neither is known."""
    status = snap.get(FAN_STATUS)
    if status is not None:
        return status >= 0.5
    speed = snap.get(FAN_SPEED)
    if speed is not None:
        return speed > 0.0
    if not snap.equipment.has(FAN_STATUS) and not snap.equipment.has(FAN_SPEED):
        return True  # equipment without a fan (a radiator circuit) runs when its valve says so
    return None
