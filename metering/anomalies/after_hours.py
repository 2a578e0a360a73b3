"""After-hours load per tenant: electricity outside the lease or occupancy hours, week by week.

A tenant's week is judged on its mean after-hours power per m² of the spaces its own points serve
(points it pays 100 % of; points marked `always_on`, like a server room, and their spaces are left
out). It is reported when it is above the median of similar tenants (same space use, same building,
else the whole site) by `peer_factor`, or above its own median of the `reference_weeks` before by
`trend_factor`. The share of after-hours to working-hours power is given as evidence, not judged: it
swings with how busy a week was, the after-hours load does not (docs/anomalies.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import SLOT, day_window, slots, utc
from metering.anomalies.site import contracts_on, occupancy_of, space_of
from metering.events import Condition, EvidenceSample, Waste
from metering.readings import Interval
from point_mapping.model import Contract, Point, SiteModel
from point_mapping.model.meters import Resource
from point_mapping.units import convert

KIND = "anomaly.after_hours"
MIN_COVERAGE = 0.9  # of a week's quarter hours, on every point of the tenant
HOURS_PER_SLOT = 0.25


@dataclass(frozen=True, slots=True)
class TenantScope:
    tenant: str
    contract: Contract
    points: tuple[Point, ...]
    area_m2: float
    use: str
    building: str | None


@dataclass(frozen=True, slots=True)
class TenantWeek:
    scope: TenantScope
    monday: date
    start: datetime
    end: datetime
    after_kwh: float
    after_hours: float
    work_kwh: float
    work_hours: float
    after_cost: Decimal | None  # of the after-hours energy, as billed
    per_point_after_kw: dict[str, float] = field(default_factory=dict)

    @property
    def after_kw(self) -> float:
        return self.after_kwh / self.after_hours if self.after_hours else 0.0

    @property
    def work_kw(self) -> float:
        return self.work_kwh / self.work_hours if self.work_hours else 0.0

    @property
    def after_w_per_m2(self) -> float:
        return 1000.0 * self.after_kw / self.scope.area_m2


def scopes(site: SiteModel, day: date) -> list[TenantScope]:
    """What is judged per tenant on `day`: its own electricity points (not always-on) and their area."""
    found: list[TenantScope] = []
    for contract in contracts_on(site, day):
        points = tuple(
            site.point_by_id[cp.point]
            for cp in contract.points
            if cp.share >= 100
            and site.resource_of(site.point_by_id[cp.point]) is Resource.ELECTRICITY
            and not site.point_by_id[cp.point].always_on
            and site.point_by_id[cp.point].unit in ("kWh", "MWh", "Wh")
        )
        if not points:
            continue
        always_on = {
            space_of(site, site.point_by_id[cp.point]) for cp in contract.points if site.point_by_id[cp.point].always_on
        }
        spaces = {s for s in (space_of(site, p) for p in points) if s is not None}
        if not spaces:
            spaces = {s for s in contract.spaces if s not in always_on}
        known = [site.space_by_id[s] for s in sorted(spaces) if s in site.space_by_id]
        area = sum(s.area_m2 for s in known)
        if area <= 0:
            continue
        largest = max(known, key=lambda s: (s.area_m2, s.id))
        building = site.building_of_space.get(largest.id)
        found.append(
            TenantScope(contract.tenant, contract, points, area, largest.use or "", building.id if building else None)
        )
    return found


def _week(
    inputs: AnomalyInputs, scope: TenantScope, monday: date, by_point: dict[str, dict[datetime, Interval]]
) -> TenantWeek | None:
    zone = inputs.site.site.zone
    start = day_window(monday, zone)[0]
    end = day_window(monday + timedelta(days=6), zone)[1]
    occupied = occupancy_of(inputs.site, scope.contract, inputs.holidays, inputs.schedules)
    after_kwh = work_kwh = after_hours = work_hours = 0.0
    cost: Decimal | None = Decimal(0)
    per_point: dict[str, float] = {p.id: 0.0 for p in scope.points}
    expected = 0
    for t in slots(start, end):
        expected += 1
        values = [by_point[p.id].get(t) for p in scope.points]
        if any(v is None for v in values):
            continue
        kwh = [convert(v.value, p.unit or "kWh", "kWh") for v, p in zip(values, scope.points, strict=True) if v]
        if occupied(t):
            work_kwh += sum(kwh)
            work_hours += HOURS_PER_SLOT
            continue
        after_kwh += sum(kwh)
        after_hours += HOURS_PER_SLOT
        for point, energy in zip(scope.points, kwh, strict=True):
            per_point[point.id] += energy
            price = inputs.price(point.id, t)
            if price is None or cost is None:
                cost = None
            else:
                cost += Decimal(str(convert(energy, "kWh", point.unit or "kWh"))) * price
    if expected == 0 or (after_hours + work_hours) / HOURS_PER_SLOT < MIN_COVERAGE * expected or not after_hours:
        return None
    return TenantWeek(
        scope,
        monday,
        start,
        end,
        after_kwh,
        after_hours,
        work_kwh,
        work_hours,
        cost,
        {p: round(e / after_hours, 3) for p, e in per_point.items()},
    )


def _mondays(inputs: AnomalyInputs, first: datetime) -> list[date]:
    zone = inputs.site.site.zone
    day = first.astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())
    if day_window(monday, zone)[0] < utc(first):
        monday += timedelta(days=7)  # only whole weeks
    found: list[date] = []
    while day_window(monday + timedelta(days=6), zone)[1] <= utc(inputs.end):
        found.append(monday)
        monday += timedelta(days=7)
    return found


def _history_start(inputs: AnomalyInputs) -> datetime:
    starts = [s[0].start for s in inputs.intervals.values() if s]
    return min([inputs.start, *starts])


@dataclass(frozen=True, slots=True)
class Verdict:
    week: TenantWeek
    peers: int
    peer_median_w_per_m2: float | None
    reference_kw: float | None
    reasons: tuple[str, ...]
    expected_kw: float  # what the after-hours load would be if it were like the peers or its own past

    @property
    def excess_kwh(self) -> float:
        return max(0.0, self.week.after_kwh - self.expected_kw * self.week.after_hours)


def after_hours(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.after_hours
    if not rule.enabled:
        return []
    by_point: dict[str, dict[datetime, Interval]] = {}
    weeks: dict[date, list[TenantWeek]] = {}
    for monday in _mondays(inputs, _history_start(inputs)):
        found: list[TenantWeek] = []
        for scope in scopes(site, monday + timedelta(days=3)):
            for point in scope.points:
                if point.id not in by_point:
                    by_point[point.id] = {i.start: i for i in inputs.series(point.id)}
            week = _week(inputs, scope, monday, by_point)
            if week is not None:
                found.append(week)
        weeks[monday] = found
    judged = [m for m in weeks if day_window(m, site.site.zone)[0] >= utc(inputs.start)]
    verdicts: dict[str, list[Verdict]] = {}
    for monday in judged:
        for week in weeks[monday]:
            reference = [
                w.after_kw
                for m in sorted(weeks)
                if monday - timedelta(weeks=rule.reference_weeks) <= m < monday
                for w in weeks[m]
                if w.scope.tenant == week.scope.tenant
            ]
            verdicts.setdefault(week.scope.tenant, []).append(_judge(inputs, week, weeks[monday], reference))
    conditions: list[Condition] = []
    for tenant_verdicts in verdicts.values():
        for run, ongoing in _runs(tenant_verdicts):
            conditions.append(_condition(inputs, run, ongoing, from_first=run[0] is tenant_verdicts[0]))
    return conditions


def _judge(inputs: AnomalyInputs, week: TenantWeek, same_week: Sequence[TenantWeek], reference: list[float]) -> Verdict:
    rule = inputs.site.anomalies.after_hours
    scope = week.scope
    alike = [w for w in same_week if w.scope.tenant != scope.tenant and w.scope.use == scope.use]
    peers = [w for w in alike if w.scope.building == scope.building]
    if len(peers) < rule.min_peers:
        peers = alike
    peer_median = median(w.after_w_per_m2 for w in peers) if len(peers) >= rule.min_peers else None
    own = median(reference) if reference else None
    reasons: list[str] = []
    expected: list[float] = []
    if week.after_w_per_m2 >= rule.min_after_hours_w_per_m2:
        if peer_median is not None and week.after_w_per_m2 > rule.peer_factor * peer_median:
            reasons.append("peers")
            expected.append(peer_median * scope.area_m2 / 1000.0)
        if own is not None and week.after_kw > rule.trend_factor * own:
            reasons.append("own history")
            expected.append(own)
    # the peers are the better baseline where they fired: the tenant's own past may hold the same fault
    return Verdict(week, len(peers), peer_median, own, tuple(reasons), expected[0] if expected else week.after_kw)


def _runs(verdicts: list[Verdict]) -> list[tuple[list[Verdict], bool]]:
    """Runs of consecutive flagged weeks, each with whether it reaches the last week judged."""
    runs: list[tuple[list[Verdict], bool]] = []
    current: list[Verdict] = []
    for verdict in verdicts:
        if verdict.reasons:
            current.append(verdict)
        elif current:
            runs.append((current, False))
            current = []
    if current:
        runs.append((current, True))
    return runs


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _week_cost(inputs: AnomalyInputs, verdict: Verdict) -> Decimal | None:
    """What the excess energy of the week cost, at the tariff of its after-hours quarter hours."""
    week = verdict.week
    if week.after_cost is None or inputs.currency is None:
        return None
    share = Decimal(str(verdict.excess_kwh / week.after_kwh)) if week.after_kwh > 0 else Decimal(0)
    return _money(week.after_cost * share)


def _title(details: Mapping[str, Any]) -> str:
    peers = details["peer_median_w_per_m2"]
    since = "at least since" if details["since_window_start"] else "since"
    return (
        f"After-hours load of {details['tenant_name']}: {details['after_hours_w_per_m2']:.1f} W/m² outside its "
        f"hours{f' (peers {peers:.1f} W/m²)' if peers is not None else ''}, {since} the week of "
        f"{details['first_week']}"
    )


def _waste(weekly: Sequence[Mapping[str, Any]], currency: str | None) -> Waste:
    costs = [w["cost"] for w in weekly]
    cost = sum((Decimal(c) for c in costs), Decimal(0)) if all(c is not None for c in costs) and currency else None
    return Waste(
        round(sum(float(w["excess_kwh"]) for w in weekly), 1), "kWh", cost, currency if cost is not None else None
    )


def _condition(inputs: AnomalyInputs, run: list[Verdict], ongoing: bool, *, from_first: bool) -> Condition:
    site = inputs.site
    first, last = run[0], run[-1]
    scope = last.week.scope
    tenant = site.tenant_by_id.get(scope.tenant)
    weekly = [
        {"week": v.week.monday.isoformat(), "excess_kwh": round(v.excess_kwh, 1), "cost": _str(_week_cost(inputs, v))}
        for v in run
    ]
    details: dict[str, Any] = {
        "tenant": scope.tenant,
        "tenant_name": tenant.name if tenant is not None else scope.tenant,
        "points": [p.id for p in scope.points],
        "area_m2": scope.area_m2,
        "use": scope.use,
        "first_week": first.week.monday.isoformat(),
        "last_week": last.week.monday.isoformat(),
        "weeks": len(run),
        "after_hours_kw": round(last.week.after_kw, 3),
        "working_hours_kw": round(last.week.work_kw, 3),
        "after_to_working": round(last.week.after_kw / last.week.work_kw, 3) if last.week.work_kw else None,
        "after_hours_w_per_m2": round(last.week.after_w_per_m2, 2),
        "peers": last.peers,
        "peer_median_w_per_m2": round(last.peer_median_w_per_m2, 2) if last.peer_median_w_per_m2 is not None else None,
        "own_reference_kw": round(last.reference_kw, 3) if last.reference_kw is not None else None,
        "reasons": list(last.reasons),
        "excess_kwh_per_week": round(last.excess_kwh, 1),
        "weekly": weekly,  # excess energy and its cost per week of the run
        "since_window_start": from_first,
    }
    evidence = tuple(EvidenceSample(v.week.start, v.week.per_point_after_kw) for v in run[-8:])
    return Condition(
        key=f"{KIND}:{scope.tenant}:{first.week.monday.isoformat()}",
        kind=KIND,
        subject=scope.tenant,
        title=_title(details),
        started_at=first.week.start,
        ended_at=None if ongoing else last.week.end,
        severity="warning",
        zone=scope.building,
        tenants=(scope.tenant,),
        evidence=evidence,
        waste=_waste(weekly, inputs.currency),
        details=details,
    )


def _str(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def continue_from(stored: Mapping[str, Any], condition: Condition) -> Condition:
    """A run judged from the start of the period, continuing a stored finding: the weeks of both, once each.

    `stored` is the stored finding's details; the condition's weeks win where both have one.
    """
    weeks = {w["week"]: w for w in stored.get("weekly", [])}
    weeks.update({w["week"]: w for w in condition.details.get("weekly", [])})
    weekly = [weeks[k] for k in sorted(weeks)]
    if not weekly:
        return condition
    details = dict(condition.details)
    details.update(
        weekly=weekly,
        weeks=len(weekly),
        first_week=weekly[0]["week"],
        since_window_start=bool(stored.get("since_window_start", False)),
    )
    waste = condition.waste
    currency = waste.currency if waste is not None else None
    return replace(condition, title=_title(details), details=details, waste=_waste(weekly, currency))


__all__ = ["KIND", "SLOT", "TenantScope", "TenantWeek", "after_hours", "continue_from", "scopes"]
