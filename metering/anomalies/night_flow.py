"""Silent leaks: a water point whose minimum flow in the night window never drops to its expected level.

The baseline is the physics of a healthy supply, not the point's own history (which may have leaked
from its first day): in a quiet night every tap, cistern and shower of a healthy installation is shut
for at least one quarter hour, so the night's minimum is zero, or the continuous flow the site declares
(`expected_flow_l_per_h`). Hours a tenant occupies are left out of the night. A leak inside a sub-meter
also raises its parents' night minimum; a parent is reported only for what its metered leaks do not
explain, and the leak names the parents it shows in (docs/anomalies.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import SLOT, day_window, local_days, night_window, slots
from metering.anomalies.site import (
    WATER,
    area_label,
    building_of,
    contained_points,
    contracts_on,
    occupancy_of,
    space_of,
    tenants_of_point,
)
from metering.events import Condition, EvidenceSample, Waste
from metering.readings import Interval, Quality
from point_mapping.model import Contract, Point, SiteModel
from point_mapping.units import convert

KIND = "anomaly.night_flow"
TRUSTED = (Quality.MEASURED, Quality.CORRECTED)  # spread (estimated) values look like a steady flow
QUARTERS_PER_HOUR = 4  # the night's flow is judged per whole hour
LEAK_BAND = (0.5, 1.5)  # a quarter hour at 0.5-1.5x the night minimum is taken as leak, not use


@dataclass(frozen=True, slots=True)
class Night:
    night: date  # local date the window ends on
    start: datetime
    end: datetime
    judged: bool
    min_l_per_h: float = 0.0
    min_at: datetime | None = None
    leak_litres: float = 0.0  # litres of the local day at the leak's level


def water_points(site: SiteModel) -> list[Point]:
    return [p for p in site.points if site.resource_of(p) in WATER and p.unit is not None]


def _litres(point: Point, value: float) -> float:
    assert point.unit is not None
    return convert(value, point.unit, "L")


def nights_of(inputs: AnomalyInputs, point: Point, inner: frozenset[str] = frozenset()) -> list[Night]:
    """Every complete night in the judged period, with its minimum flow and the day's leak-level litres.

    Quarter hours in which a tenant of the point, or of a point `inner` to it, occupies its space are
    left out: a gym open at night makes the building's main meter flow for a reason.
    """
    site, rule = inputs.site, inputs.site.anomalies.night_flow
    zone = site.site.zone
    served = [point, *(site.point_by_id[p] for p in sorted(inner))]
    by_start = {i.start: i for i in inputs.series(point.id)}
    found: list[Night] = []
    for day in local_days(inputs.start, inputs.end, zone):
        start, end = night_window(day, rule.window_start, rule.window_end, zone)
        if start < inputs.start or end > inputs.end:
            continue
        tenants = {t for p in served for t in tenants_of_point(site, p, day)}
        contracts = [c for c in contracts_on(site, day) if c.tenant in tenants and _serves(site, c, served)]
        occupancy = [occupancy_of(site, c, inputs.holidays, inputs.schedules) for c in contracts]
        # whole hours from the window's start: a 10-L pulse meter shows 7.5 L a quarter hour as 0 or 10
        hours: list[tuple[datetime, float]] = []
        expected = 0
        window = list(slots(start, end))
        for first in range(0, len(window) - QUARTERS_PER_HOUR + 1, QUARTERS_PER_HOUR):
            hour = window[first : first + QUARTERS_PER_HOUR]
            if any(occupied(t) for t in hour for occupied in occupancy):
                continue
            expected += 1
            values = [by_start.get(t) for t in hour]
            if all(v is not None and v.quality in TRUSTED for v in values):
                hours.append((hour[0], sum(_litres(point, v.value) for v in values if v is not None)))
        if not expected or len(hours) < rule.min_coverage * expected:
            found.append(Night(day, start, end, judged=False))
            continue
        lowest_at, lowest = min(hours, key=lambda h: (h[1], h[0]))
        found.append(
            Night(
                day,
                start,
                end,
                judged=True,
                min_l_per_h=lowest,
                min_at=lowest_at,
                leak_litres=_leak_litres(inputs, point, by_start, day, lowest / QUARTERS_PER_HOUR),
            )
        )
    return found


def _serves(site: SiteModel, contract: Contract, points: Sequence[Point]) -> bool:
    """The contract pays for one of the points (own share, 100 %) or leases the space one of them serves."""
    for point in points:
        if any(p.point == point.id and p.share >= 100 for p in contract.points):
            return True
        space = space_of(site, point)
        if space is not None and space in contract.spaces:
            return True
    return False


def _leak_litres(
    inputs: AnomalyInputs, point: Point, by_start: Mapping[datetime, Interval], day: date, per_quarter: float
) -> float:
    """Litres of the local day in quarter hours that flow at the leak's level (use on top is not counted)."""
    if per_quarter <= 0:
        return 0.0
    low, high = LEAK_BAND[0] * per_quarter, LEAK_BAND[1] * per_quarter
    start, end = day_window(day, inputs.site.site.zone)
    total = 0.0
    for t in slots(start, end):
        interval = by_start.get(t)
        if interval is not None:
            litres = _litres(point, interval.value)
            total += litres if low <= litres <= high else 0.0
    return total


def threshold_of(site: SiteModel, point_id: str) -> float:
    rule = site.anomalies.night_flow
    return rule.min_flow_l_per_h + rule.expected_flow_l_per_h.get(point_id, 0.0)


def leaking_tail(inputs: AnomalyInputs, point: Point) -> tuple[list[Night], bool]:
    """The leaking nights at the end of the period (oldest first), and whether they reach its first night.

    Used to walk a leak back before the period judged, one slice of history at a time; the point alone
    is looked at (its parents' explanation only matters for which point is reported).
    """
    judged = [n for n in nights_of(inputs, point) if n.judged]
    threshold = threshold_of(inputs.site, point.id)
    tail: list[Night] = []
    for night in reversed(judged):
        if night.min_l_per_h < threshold:
            return tail, False
        tail.insert(0, night)
    return tail, True


def night_flow(
    inputs: AnomalyInputs,
    earlier: Mapping[str, Sequence[Night]] | None = None,
    open_ended: frozenset[str] = frozenset(),
) -> list[Condition]:
    """Leaks in the period.

    A leak that runs from the first night judged continues with the `earlier` leaking nights given for
    its point; for a point in `open_ended` those reach its first stored night, so it may be older still.
    """
    site, rule = inputs.site, inputs.site.anomalies.night_flow
    earlier = earlier or {}
    if not rule.enabled:
        return []
    points = water_points(site)
    contains = contained_points(site)
    nights = {p.id: nights_of(inputs, p, contains[p.id]) for p in points}
    # leaves first: a parent is judged on what its own leaking descendants leave unexplained
    order = _inner_first(points, contains)
    # point -> night -> L/h of a reported leak beyond what the leaks inside it explain (so they add up)
    reported: dict[str, dict[date, float]] = {}
    own_litres: dict[str, dict[date, float]] = {}  # the same, in litres a day
    seen_in: dict[str, set[str]] = {}
    for point in order:
        threshold = threshold_of(site, point.id)
        leaking: dict[date, float] = {}
        litres: dict[date, float] = {}
        for night in nights[point.id]:
            if not night.judged or night.min_l_per_h < threshold:
                continue
            inside = [p for p in contains[point.id] if night.night in reported.get(p, {})]
            explained = sum(reported[p][night.night] for p in inside)
            if night.min_l_per_h - explained >= threshold:
                leaking[night.night] = night.min_l_per_h - explained
                litres[night.night] = max(0.0, night.leak_litres - sum(own_litres[p][night.night] for p in inside))
            for p in inside:
                seen_in.setdefault(p, set()).add(point.id)
        reported[point.id], own_litres[point.id] = leaking, litres
    conditions: list[Condition] = []
    for point in points:
        judged = [n for n in nights[point.id] if n.judged]
        for run in _runs(judged, reported[point.id]):
            from_first = run[0] is judged[0]
            run = [replace(n, leak_litres=own_litres[point.id][n.night]) for n in run]
            before = list(earlier.get(point.id, ())) if from_first else []
            if before:
                run = [*before, *run]
            if len(run) >= rule.nights:
                ongoing = run[-1].night == judged[-1].night
                parents = (
                    sorted(seen_in.get(point.id, set())),
                    sorted(p.id for p in points if point.id in contains[p.id]),
                )
                older = from_first and (not before or point.id in open_ended)
                condition = _condition(inputs, point, run, ongoing, older, parents)
                own = reported[point.id].get(run[-1].night, run[-1].min_l_per_h)
                conditions.append(replace(condition, details={**condition.details, "own_flow_l_per_h": round(own, 1)}))
    return conditions


def _inner_first(points: Sequence[Point], contains: Mapping[str, frozenset[str]]) -> list[Point]:
    """Points ordered so that every point comes after the points it contains."""
    done: set[str] = set()
    order: list[Point] = []
    by_id = {p.id: p for p in points}

    def visit(point_id: str) -> None:
        if point_id in done:
            return
        done.add(point_id)  # containment is acyclic: formulas and sub-meters are checked on load
        for inner in sorted(contains.get(point_id, frozenset())):
            visit(inner)
        if point_id in by_id:
            order.append(by_id[point_id])

    for point in sorted(points, key=lambda p: p.id):
        visit(point.id)
    return order


def _runs(judged: Sequence[Night], leaking: Mapping[date, float]) -> list[list[Night]]:
    """Maximal runs of consecutive judged nights that leak (a night that could not be judged is skipped)."""
    runs: list[list[Night]] = []
    current: list[Night] = []
    for night in judged:
        if night.night in leaking:
            current.append(night)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _condition(
    inputs: AnomalyInputs,
    point: Point,
    run: list[Night],
    ongoing: bool,
    from_first: bool,
    parents: tuple[list[str], list[str]],
) -> Condition:
    """`from_first`: the run starts at the first night anyone looked at, so the leak may be older still.

    `parents`: the points whose night flow this leak explains, and every point that contains it.
    """
    site, rule = inputs.site, inputs.site.anomalies.night_flow
    assert point.unit is not None
    first, last = run[0], run[-1]
    recent = run[-rule.nights :]
    litres_per_day = sum(n.leak_litres for n in recent) / len(recent)
    price = inputs.price(point.id, last.start)
    volume = sum(convert(n.leak_litres, "L", point.unit) for n in run)
    cost_per_day: Decimal | None = None
    total_cost: Decimal | None = None
    if price is not None and inputs.currency is not None:
        cost_per_day = _money(Decimal(str(convert(litres_per_day, "L", point.unit))) * price)
        total_cost = _money(
            sum(
                (
                    Decimal(str(convert(n.leak_litres, "L", point.unit))) * (inputs.price(point.id, n.start) or price)
                    for n in run
                ),
                Decimal(0),
            )
        )
    area = area_label(site, point)
    tenants = tenants_of_point(site, point, last.night)
    money = f", {cost_per_day} {inputs.currency}/day" if cost_per_day is not None else ""
    since = "at least since" if from_first else "since"
    title = (
        f"Leak at {point.id}{f' in {area}' if area else ''}: {litres_per_day:.0f} L/day{money}, "
        f"night flow {since} the night to {first.night}"
    )
    details: dict[str, object] = {
        "point": point.id,
        "area": area,
        "start_night": first.night.isoformat(),
        "last_night": last.night.isoformat(),
        "nights": len(run),
        "min_flow_l_per_h": round(last.min_l_per_h, 1),
        "litres_per_day": round(litres_per_day, 1),
        "cost_per_day": str(cost_per_day) if cost_per_day is not None else None,
        "currency": inputs.currency,
        "threshold_l_per_h": threshold_of(site, point.id),
        "window": f"{rule.window_start:%H:%M}-{rule.window_end:%H:%M}",
        "seen_in": parents[0],  # parents whose night flow it explains: not reported on their own
        "contained_in": parents[1],  # every point this leak also flows through
        "since_window_start": from_first,
    }
    evidence = tuple(
        EvidenceSample(n.min_at, {point.id: round(n.min_l_per_h, 2)}) for n in run[-7:] if n.min_at is not None
    )
    return Condition(
        key=f"{KIND}:{point.id}:{first.night.isoformat()}",
        kind=KIND,
        subject=point.id,
        title=title,
        started_at=first.start,
        ended_at=None if ongoing else last.end,
        severity="alarm",
        equipment=point.meter,
        zone=building_of(site, point),
        tenants=tenants,
        evidence=evidence,
        waste=Waste(round(volume, 4), point.unit, total_cost, inputs.currency if total_cost is not None else None),
        details=details,
    )


__all__ = ["KIND", "SLOT", "Night", "night_flow", "nights_of", "water_points"]
