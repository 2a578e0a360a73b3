"""The demo's HVAC plant as the BMS sees it: valves, dampers, fans, temperatures and setpoints.

Derived from the same `LoadModel` as the meters, step by step, so the valves agree with the heat and
chiller meters: the AHU heating valve opens with the heating demand (and the reheat of the spells of
simultaneous heating and cooling), the cooling valves with the chiller's load. The case study's
faults come out of it by themselves:

- spring and autumn spells (`Scenario.simultaneous_spells`): on working days 07:00-19:00 the AHUs
  heat and cool at once and the perimeter radiators heat while the AHUs cool;
- in the autumn spell, operators narrowed AHU B's zone setpoints by hand to 22.5/23.0 degC;
- AHU B's Schedule object was changed to weekdays only, but the AHU still runs its old Saturday
  program (08:00-14:00, as its electricity meter shows): ventilation while unoccupied.

Pure: time is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import holidays as holidays_lib

from bms_bridge.simulate.load_model import LoadModel, StepContext, step_of
from metering.hvac.schedule import OccupancySchedule, ScheduleException
from metering.trends import TrendKind
from point_mapping.model import SiteModel
from point_mapping.model.bms import BmsPoint

OCCUPIED, UNOCCUPIED = 1, 2  # multistate occupancy states (BACnet states count from 1)
_WEEKDAY_PROGRAM = ((time(6), True), (time(20), False))
_SATURDAY_PROGRAM = ((time(8), True), (time(14), False))


def kind_of(point: BmsPoint) -> TrendKind | None:
    """How a point's value is stored; None for Schedule and Calendar objects (not trends)."""
    object_type = point.object.split(",")[0]
    if object_type.startswith("binary"):
        return TrendKind.BINARY
    if object_type.startswith("multi-state"):
        return TrendKind.MULTISTATE
    if object_type.startswith("analog"):
        return TrendKind.ANALOG
    return None


@dataclass(frozen=True, slots=True)
class _Ahu:
    fan_on: bool
    speed: float
    heating: float
    cooling: float
    damper: float


def _between(hour: float, start: float, end: float) -> bool:
    return start <= hour < end


class BmsPlant:
    def __init__(self, site: SiteModel, model: LoadModel) -> None:
        self.site = site
        self.model = model
        self._design_cooling_kw = 0.003 * model.site_area_m2 * 12.0  # at 30 degC outdoors
        self.points = [p for p in site.bms_points if kind_of(p) is not None]

    # ------------------------------------------------------------------ schedules
    def holidays(self, first_year: int, last_year: int) -> frozenset[date]:
        """The public holidays of the BMS's Calendar object (the same the load model closes on)."""
        info = self.site.site
        if not info.holidays_country:
            return frozenset()
        found = holidays_lib.country_holidays(
            info.holidays_country, subdiv=info.holidays_subdivision, years=range(first_year, last_year + 1)
        )
        return frozenset(found)

    def schedule(self, equipment: str, holidays: frozenset[date]) -> OccupancySchedule:
        """The BMS Schedule object of an AHU: weekdays 06-20 (+ Saturday 08-14 on AHU A), holidays off."""
        saturday = _SATURDAY_PROGRAM if equipment == "ahu-a" else ()
        weekly = (_WEEKDAY_PROGRAM,) * 5 + (saturday, ())
        exception = ScheduleException((), dates=holidays, priority=1)
        return OccupancySchedule(weekly, self.model.zone, (exception,), name=f"{equipment} time program")

    # ------------------------------------------------------------------ values
    def _ahu(self, ctx: StepContext) -> _Ahu:
        h = ctx.hour
        if ctx.workday and _between(h, 6, 20):
            speed = 90.0 if _between(h, 8, 18) else 60.0
        elif ctx.weekday == 5 and _between(h, 8, 14):
            speed = 50.0  # the old Saturday program (see the module docstring)
        else:
            return _Ahu(False, 0.0, 0.0, 0.0, 0.0)
        demand = max(0.0, 16.0 - ctx.outdoor)
        heating = min(100.0, demand * 6.0)
        if ctx.spell and ctx.workday and _between(h, 7, 19):
            heating = min(100.0, heating + 45.0)  # the reheat fighting the chiller
        cooling = min(100.0, 100.0 * self.model.cooling_load(ctx) / self._design_cooling_kw)
        damper = 100.0 if cooling > 0 and heating == 0 else 20.0  # economiser when only cooling
        return _Ahu(True, speed, round(heating, 1), round(cooling, 1), damper)

    def values(self, t: datetime) -> dict[str, float]:
        """Every trend point's value during the 15-minute step holding t."""
        ctx = self.model.context(step_of(t)[0])
        ahu = self._ahu(ctx)
        demand = max(0.0, 16.0 - ctx.outdoor)
        occupied_hours = ctx.workday and _between(ctx.hour, 6, 20)
        perimeter = round(min(100.0, demand * 7.0) * (1.0 if occupied_hours else 0.55), 1)
        fcu_on = ctx.workday and _between(ctx.hour, 7, 19)
        fcu_cooling = round(min(100.0, 100.0 * self.model.cooling_load(ctx) / self._design_cooling_kw), 1)
        fcu_heating = round(min(100.0, demand * 5.0), 1) if fcu_on and fcu_cooling == 0 else 0.0
        narrowed = ctx.spell and t.astimezone(self.model.zone).month >= 7  # the autumn spell
        found: dict[str, float] = {}
        for point in self.points:
            found[point.id] = self._value(point, ctx, ahu, perimeter, fcu_on, fcu_heating, fcu_cooling, narrowed)
        return found

    def _value(
        self,
        point: BmsPoint,
        ctx: StepContext,
        ahu: _Ahu,
        perimeter: float,
        fcu_on: bool,
        fcu_heating: float,
        fcu_cooling: float,
        narrowed: bool,
    ) -> float:
        eq, role = point.equipment, point.role
        if eq.startswith("perimeter"):
            return perimeter
        if eq.startswith("fcu"):
            if role == "fan-status":
                return 1.0 if fcu_on else 0.0
            return fcu_heating if role == "heating-valve" else (fcu_cooling if fcu_on else 0.0)
        return_air = 22.0
        mixed = round(0.2 * ctx.outdoor + 0.8 * return_air, 1) if ahu.fan_on else return_air
        b_narrowed = narrowed and eq == "ahu-b"
        table: dict[str, float] = {
            "heating-valve": ahu.heating,
            "cooling-valve": ahu.cooling,
            "outdoor-air-damper": ahu.damper,
            "fan-status": 1.0 if ahu.fan_on else 0.0,
            "fan-speed": ahu.speed,
            "supply-air-temperature": round(mixed + 0.12 * ahu.heating - 0.15 * ahu.cooling, 1),
            "supply-air-setpoint": 19.0,
            "mixed-air-temperature": mixed,
            "return-air-temperature": return_air,
            "outside-air-temperature": round(ctx.outdoor, 1),
            "heating-setpoint": 22.5 if b_narrowed else 21.0,
            "cooling-setpoint": 23.0 if b_narrowed else 24.0,
            "occupancy": float(OCCUPIED if ahu.fan_on else UNOCCUPIED),
        }
        return table.get(role, 0.0)
