"""What the rules need to know about the site: where a point is, whose it is, what it contains, when it is used.

Pure lookups over the frozen `SiteModel`; nothing here reads a series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from metering.hvac.schedule import OccupancySchedule
from point_mapping.formula import parse_formula
from point_mapping.model import (
    Contract,
    LpwanConnection,
    ManualConnection,
    ModbusRtuConnection,
    ModbusTcpConnection,
    Point,
    SiteModel,
)
from point_mapping.model.meters import Resource
from point_mapping.model.tariffs import TimeWindow

WATER = (Resource.COLD_WATER, Resource.HOT_WATER)
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Occupied = Callable[[datetime], bool]


def space_of(site: SiteModel, point: Point) -> str | None:
    if point.space is not None:
        return point.space
    if point.meter is not None:
        return site.meter_by_id[point.meter].space
    return None


def area_label(site: SiteModel, point: Point) -> str | None:
    """'Restrooms B2 east wing (B2-wc)': where the point's water or power goes."""
    space_id = space_of(site, point)
    if space_id is None:
        return None
    space = site.space_by_id.get(space_id)
    return f"{space.name} ({space_id})" if space is not None and space.name else space_id


def building_of(site: SiteModel, point: Point) -> str | None:
    space_id = space_of(site, point)
    building = site.building_of_space.get(space_id or "")
    return building.id if building is not None else None


def contracts_on(site: SiteModel, day: date) -> list[Contract]:
    return [c for c in site.contracts if c.start <= day and (c.end is None or day <= c.end)]


def tenants_of_point(site: SiteModel, point: Point, day: date) -> tuple[str, ...]:
    """Tenants who pay for the point or lease the space it serves, on `day`."""
    space = space_of(site, point)
    found = {
        c.tenant
        for c in contracts_on(site, day)
        if any(p.point == point.id for p in c.points) or (space is not None and space in c.spaces)
    }
    return tuple(sorted(found))


def day_matches(window: TimeWindow, day: date, holidays: frozenset[date]) -> bool:
    """A public holiday only matches 'holidays'; otherwise a day matches its name, 'weekdays' or 'weekend'."""
    if day in holidays:
        return "holidays" in window.days
    name = _DAY_NAMES[day.weekday()]
    kind = "weekdays" if day.weekday() < 5 else "weekend"
    return name in window.days or kind in window.days


def in_windows(windows: Iterable[TimeWindow], local: datetime, holidays: frozenset[date]) -> bool:
    """Is the local wall time inside one of the windows (end exclusive, 00:00 = midnight at the end)?"""
    clock = local.time().replace(tzinfo=None)
    for window in windows:
        if not day_matches(window, local.date(), holidays):
            continue
        if window.start <= clock and (window.end == time(0) or clock < window.end):
            return True
    return False


def occupancy_of(
    site: SiteModel,
    contract: Contract,
    holidays: frozenset[date],
    schedules: Mapping[str, OccupancySchedule] | None = None,
) -> Occupied:
    """occupied(instant): by the BMS Schedule object the contract names, once read (what the building
    actually runs, exceptions included); else inside the contract's lease hours, or the site's default
    working hours."""
    schedule = (schedules or {}).get(contract.occupancy_schedule or "")
    if schedule is not None:
        return schedule.occupied
    windows = contract.occupancy or site.anomalies.after_hours.working_hours
    zone = site.site.zone

    def occupied(moment: datetime) -> bool:
        return in_windows(windows, moment.astimezone(zone), holidays)

    return occupied


def contained_points(site: SiteModel) -> dict[str, frozenset[str]]:
    """Per point, the points whose consumption is part of it.

    A physical point contains the same-unit points of its meter's sub-meters (transitively); a virtual
    point contains its positive terms and what they contain, less its negative terms and what they
    contain: `cw.B-common = cw.B-main - cw.B0-fit` contains the B2 restrooms but not the gym.
    """
    by_meter: dict[str, list[Point]] = {}
    for point in site.points:
        if point.meter is not None:
            by_meter.setdefault(point.meter, []).append(point)
    children: dict[str, list[str]] = {}
    for meter in site.meters:
        if meter.submeter_of is not None:
            children.setdefault(meter.submeter_of, []).append(meter.id)
    found: dict[str, frozenset[str]] = {}

    def physical(point: Point) -> frozenset[str]:
        assert point.meter is not None
        inside: set[str] = set()
        for child in children.get(point.meter, []):
            for sub in by_meter.get(child, []):
                if sub.unit == point.unit:
                    inside.add(sub.id)
                    inside |= contents(sub.id)
        return frozenset(inside)

    def contents(point_id: str) -> frozenset[str]:
        if point_id in found:
            return found[point_id]
        point = site.point_by_id[point_id]
        if point.formula is None:
            result = physical(point)
        else:
            plus: set[str] = set()
            minus: set[str] = set()
            for term in parse_formula(point.formula).terms:
                side = plus if term.coefficient > 0 else minus
                side.add(term.point_id)
                side |= contents(term.point_id)
            result = frozenset(plus - minus)
        found[point_id] = result
        return result

    return {p.id: contents(p.id) for p in site.points}


@dataclass(frozen=True, slots=True)
class MeteredGroup:
    """A meter's point and the same-unit points of its direct sub-meters (main against Σ sub-meters)."""

    main: str
    subs: tuple[str, ...]


def metered_groups(site: SiteModel) -> list[MeteredGroup]:
    groups: list[MeteredGroup] = []
    for meter in site.meters:
        subs_meters = [m for m in site.meters if m.submeter_of == meter.id]
        if not subs_meters:
            continue
        for point in site.points_of_meter(meter.id):
            subs = [next((p.id for p in site.points_of_meter(m.id) if p.unit == point.unit), None) for m in subs_meters]
            if all(s is not None for s in subs) and point.unit in ("kWh", "m3", "MWh", "L"):
                groups.append(MeteredGroup(point.id, tuple(s for s in subs if s is not None)))
    return groups


def parent_point(site: SiteModel, point: Point) -> str | None:
    """The point of the meter this point's meter is a sub-meter of, in the same unit."""
    if point.meter is None:
        return None
    parent = site.meter_by_id[point.meter].submeter_of
    if parent is None:
        return None
    return next((p.id for p in site.points_of_meter(parent) if p.unit == point.unit), None)


def is_polled(site: SiteModel, point: Point) -> bool:
    """Read by the bridge itself on a timer (Modbus), rather than sent by the meter (LPWAN) or typed in."""
    if point.meter is None:
        return False
    connection = site.device_by_id[site.meter_by_id[point.meter].device].connection
    return isinstance(connection, ModbusTcpConnection | ModbusRtuConnection)


def reading_interval(site: SiteModel, point: Point) -> timedelta | None:
    """How often a physical point is read: the poll interval or the uplink interval; None for manual reading."""
    if point.meter is None:
        return None
    device = site.device_by_id[site.meter_by_id[point.meter].device]
    connection = device.connection
    if isinstance(connection, ModbusTcpConnection | ModbusRtuConnection):
        return device.poll_interval
    if isinstance(connection, LpwanConnection):
        return connection.expected_interval
    assert isinstance(connection, ManualConnection)
    return None
