"""Gather what the rules need from the site model and the store, as `metering.hvac` values."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable
from datetime import date, datetime, timedelta

import holidays as holidays_lib

from bms_bridge.hvac.prices import price_lookup
from metering.hvac.equipment import Equipment, MeterShare
from metering.hvac.evaluate import HvacInputs
from metering.hvac.schedule import OccupancySchedule, schedule_from_json, windows_schedule
from metering.hvac.settings import RuleSettings
from metering.store import Store
from metering.trends import TrendSample
from point_mapping.loader import LoadedSite
from point_mapping.model import SiteModel

log = logging.getLogger(__name__)

STEP = timedelta(minutes=15)
_WEEKDAYS = {"mon": [0], "tue": [1], "wed": [2], "thu": [3], "fri": [4], "sat": [5], "sun": [6],
             "weekdays": [0, 1, 2, 3, 4], "weekend": [5, 6], "holidays": []}  # fmt: skip


def rule_settings(site: SiteModel) -> RuleSettings:
    r = site.hvac_rules
    return RuleSettings(
        valve_open_pct=r.valve_open_pct,
        persistence=r.persistence,
        min_deadband_k=r.min_deadband_k,
        max_mode_switches_per_hour=r.max_mode_switches_per_hour,
        max_sample_age=r.max_sample_age,
        min_outdoor_air_pct=r.min_outdoor_air_pct,
        meter_active_pct=r.meter_active_pct,
    )


def _tenants(site: SiteModel, spaces: set[str], day: date) -> tuple[str, ...]:
    found = {
        c.tenant
        for c in site.contracts
        if c.start <= day and (c.end is None or day <= c.end) and spaces.intersection(c.spaces)
    }
    return tuple(sorted(found))


def equipment_of(site: SiteModel, day: date) -> list[Equipment]:
    """Equipment from the BMS points (grouped by `equipment`) and the optional `hvac_equipment` section."""
    config = {e.id: e for e in site.hvac_equipment}
    roles: dict[str, dict[str, str]] = defaultdict(dict)
    zones: dict[str, str] = {}
    schedule_points: dict[str, str] = {}
    for point in site.bms_points:
        if point.role == "schedule":
            schedule_points[point.equipment] = point.id
        elif point.role != "calendar":
            roles[point.equipment].setdefault(point.role, point.id)
        if point.zone is not None:
            zones.setdefault(point.equipment, point.zone)
    buildings = {b.id: b for b in site.buildings}
    found: list[Equipment] = []
    for eq_id, points in roles.items():
        # the shared outdoor sensor is filed under AHU A; it does not make AHU A "have" anything else
        points = {r: p for r, p in points.items() if r != "outside-air-temperature"}
        cfg = config.get(eq_id)
        zone = (cfg.zone if cfg else None) or zones.get(eq_id)
        spaces = set(cfg.spaces) if cfg and cfg.spaces else set()
        if not spaces and zone in buildings:
            spaces = {s.id for f in buildings[zone].floors for s in f.spaces}
        meters = tuple(
            MeterShare(
                m.point,
                site.point_by_id[m.point].unit or "",
                m.share,
                site.resource_of(site.point_by_id[m.point]).value,
            )
            for m in (cfg.meters if cfg else [])
        )
        kind = (
            cfg.kind
            if cfg
            else ("perimeter-heating" if "cooling-valve" not in points and "fan-status" not in points else "ahu")
        )
        found.append(
            Equipment(eq_id, kind, zone, points, _tenants(site, spaces, day), meters, schedule_points.get(eq_id))
        )
    return found


def public_holidays(site: SiteModel, first: int, last: int) -> frozenset[date]:
    info = site.site
    if not info.holidays_country:
        return frozenset()
    return frozenset(
        holidays_lib.country_holidays(
            info.holidays_country, subdiv=info.holidays_subdivision, years=range(first, last + 1)
        )
    )


def comparable_hours(site: SiteModel, holidays: frozenset[date]) -> Callable[[datetime], Hashable]:
    """Hours are alike when they share the local hour of day and the kind of day (working or not)."""
    zone = site.site.zone

    def key(hour: datetime) -> Hashable:
        local = hour.astimezone(zone)
        return local.hour, local.weekday() < 5 and local.date() not in holidays

    return key


async def gather(site: LoadedSite, store: Store, start: datetime, end: datetime) -> HvacInputs:
    model = site.model
    zone = model.site.zone
    equipment = equipment_of(model, end.astimezone(zone).date())
    margin = timedelta(days=15)  # the baseline looks 14 days either side
    trends: dict[str, list[TrendSample]] = {}
    for eq in equipment:
        for point_id in eq.points.values():
            if point_id not in trends:
                trends[point_id] = await store.trends(point_id, start - timedelta(hours=1), end + STEP)
    hourly: dict[str, dict[datetime, float]] = {}
    for eq in equipment:
        for meter in eq.meters:
            if meter.point_id in hourly:
                continue
            per_hour: dict[datetime, float] = defaultdict(float)
            for interval in await store.intervals(meter.point_id, start - margin, end + margin):
                per_hour[interval.start.replace(minute=0, second=0, microsecond=0)] += interval.value
            hourly[meter.point_id] = dict(per_hour)
    holidays = public_holidays(model, start.year - 1, end.year + 1)
    stored = await store.schedules()
    schedules: dict[str, OccupancySchedule] = {}
    configs = {e.id: e for e in model.hvac_equipment}
    for eq in equipment:
        if eq.schedule_point and eq.schedule_point in stored:
            schedules[eq.id] = schedule_from_json(stored[eq.schedule_point][1], zone)  # the BMS's own first
        elif eq.id in configs and configs[eq.id].occupancy:
            windows = [
                ([d for day in w.days for d in _WEEKDAYS[day]], w.start, w.end) for w in configs[eq.id].occupancy
            ]
            schedules[eq.id] = windows_schedule(windows, zone, holidays)
    currency = model.site.currency
    return HvacInputs(
        equipment,
        trends,
        start,
        end,
        STEP,
        schedules=schedules,
        hourly=hourly,
        comparable=comparable_hours(model, holidays),
        price=price_lookup(model),
        currency=currency,
    )
