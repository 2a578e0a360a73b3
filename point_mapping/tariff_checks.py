"""Checks on tariffs and common pools that need the whole site: zone coverage, versions, calendars.

A day of a tariff is one of mon..sun or a public holiday; on a holiday only windows naming `holidays`
apply (docs/billing.md). For each such day the zones' windows must not overlap and, when the tariff
has no default zone, must cover all 24 hours. Versions must follow one another without gaps or overlaps.
"""

from __future__ import annotations

from datetime import time
from itertools import pairwise

import holidays

from point_mapping.errors import SiteProblem
from point_mapping.locator import Locator
from point_mapping.model import SiteModel
from point_mapping.model.tariffs import DayKind, TariffTerms

Path = tuple[str | int, ...]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holidays")
_EXPANDS: dict[DayKind, tuple[str, ...]] = {
    "weekdays": ("mon", "tue", "wed", "thu", "fri"),
    "weekend": ("sat", "sun"),
}
MINUTES_PER_DAY = 24 * 60


def day_kinds(kinds: list[DayKind]) -> set[str]:
    """mon..sun and 'holidays' named by a window's `days`."""
    result: set[str] = set()
    for kind in kinds:
        result.update(_EXPANDS.get(kind, (kind,)))
    return result


def minutes(start: time, end: time) -> tuple[int, int]:
    """A window as [start, end) minutes of the day; 00:00 at the end means midnight."""
    end_minute = MINUTES_PER_DAY if end == time(0) else end.hour * 60 + end.minute
    return start.hour * 60 + start.minute, end_minute


def check_tariffs(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    country, subdivision = site.site.holidays_country, site.site.holidays_subdivision
    if country is not None and subdivision is not None:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            problems.append(
                at.problem(("site", "holidays_subdivision"), f"no holiday calendar for {country}-{subdivision}")
            )
    for i, tariff in enumerate(site.tariffs):
        if tariff.versions:
            for v, version in enumerate(tariff.versions):
                problems += _zones(version, at, ("tariffs", i, "versions", v), country)
            problems += _versions(site, i, at)
        else:
            problems += _zones(tariff, at, ("tariffs", i), country)
    problems += _pools(site, at)
    return problems


def _zones(terms: TariffTerms, at: Locator, base: Path, country: str | None) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    taken: dict[str, list[tuple[int, int, str, Path]]] = {day: [] for day in DAYS}
    for z, zone in enumerate(terms.zones):
        for w, window in enumerate(zone.windows):
            path = (*base, "zones", z, "windows", w)
            if window.start.minute % 15 or window.end.minute % 15 or window.start.second or window.end.second:
                problems.append(at.problem(path, "zone windows start and end on a quarter hour (intervals are 15 min)"))
            kinds = day_kinds(window.days)
            if "holidays" in kinds and country is None:
                problems.append(
                    at.problem((*path, "days"), "a 'holidays' window needs site.holidays_country for the calendar")
                )
            first, last = minutes(window.start, window.end)
            for day in kinds:
                taken[day].append((first, last, zone.id, path))
    has_default = any(not zone.windows for zone in terms.zones)
    for day in DAYS:
        spans = sorted(taken[day])
        reached = 0
        for k, (first, last, zone_id, path) in enumerate(spans):
            if k and first < spans[k - 1][1]:
                other = spans[k - 1][2]
                problems.append(
                    at.problem(path, f"on {day} zone '{zone_id}' overlaps zone '{other}' from {_hhmm(first)}")
                )
            if not has_default and first > reached:
                problems.append(at.problem(path, f"on {day} no zone covers {_hhmm(reached)}-{_hhmm(first)}"))
            reached = max(reached, last)
        if not has_default and reached < MINUTES_PER_DAY:
            where = spans[-1][3] if spans else (*base, "zones")
            problems.append(at.problem(where, f"on {day} no zone covers {_hhmm(reached)}-24:00; add a default zone"))
    return problems


def _versions(site: SiteModel, i: int, at: Locator) -> list[SiteProblem]:
    tariff = site.tariffs[i]
    problems: list[SiteProblem] = []
    order = sorted(range(len(tariff.versions)), key=lambda v: tariff.versions[v].effective_from)
    for previous, current in pairwise(order):
        before, after = tariff.versions[previous], tariff.versions[current]
        path = ("tariffs", i, "versions", current, "from")
        if after.effective_from == before.effective_from:
            problems.append(at.problem(path, f"two versions start at {after.effective_from}"))
        elif before.effective_to is not None and before.effective_to > after.effective_from:
            problems.append(at.problem(path, f"version overlaps the one in force until {before.effective_to}"))
        elif before.effective_to is not None and before.effective_to < after.effective_from:
            problems.append(
                at.problem(path, f"gap: no version in force from {before.effective_to} to {after.effective_from}")
            )
    return problems


def _pools(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    buildings = {b.id for b in site.buildings}
    for i, pool in enumerate(site.common_pools):
        if pool.building not in buildings:
            problems.append(at.problem(("common_pools", i, "building"), f"unknown building '{pool.building}'"))
        named: list[tuple[Path, str]] = [(("common_pools", i, "main"), pool.main)]
        named += [(("common_pools", i, "common_points", k), p) for k, p in enumerate(pool.common_points)]
        named += [(("common_pools", i, "submeters", k), p) for k, p in enumerate(pool.submeters)]
        for path, point_id in named:
            point = site.point_by_id.get(point_id)
            if point is None:
                problems.append(at.problem(path, f"unknown point '{point_id}'"))
            elif site.resource_of(point) != pool.resource:
                problems.append(at.problem(path, f"point '{point_id}' is not {pool.resource.value}"))
    return problems


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
