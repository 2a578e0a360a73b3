"""Run every rule over a period and turn what persisted into findings (`metering.events.Condition`).

Inputs are plain values the wiring gathers: equipment, BMS trends, each equipment's occupancy schedule
(the BMS's own Schedule object first, the YAML fallback otherwise), hourly meter consumption and the
tariff price in force. The clock is `end`: a finding still in fault at `end` stays open.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from metering.events import Condition, ResourceWaste, Waste
from metering.hvac.episodes import Episode, Step, episodes
from metering.hvac.equipment import (
    COOLING_VALVE,
    FAN_SPEED,
    FAN_STATUS,
    HEATING_VALVE,
    OPERATING_MODE,
    Equipment,
    Snapshot,
    Trends,
    running,
    snapshot,
)
from metering.hvac.rules import (
    HUNTING,
    SIMULTANEOUS,
    VENTILATION,
    ZONE_FIGHT,
    ZONE_METERS,
    ZONE_SETPOINTS,
    Judgement,
    Verdict,
    unit_rules,
)
from metering.hvac.schedule import OccupancySchedule
from metering.hvac.settings import RuleSettings
from metering.hvac.waste import conflict_hours, priced, wasted
from metering.hvac.zone_meters import HOUR, zone_meter_episodes
from metering.hvac.zone_setpoints import zone_setpoint_episodes
from metering.trends import TrendSample

# rules whose findings cost energy the meters can show; the others are findings about settings
HEATING_ONLY = frozenset({"perimeter-heating", "radiators"})
WASTEFUL = frozenset({SIMULTANEOUS, ZONE_FIGHT, ZONE_METERS, VENTILATION})


@dataclass(frozen=True)
class HvacInputs:
    equipment: Sequence[Equipment]
    trends: Mapping[str, Sequence[TrendSample]]
    start: datetime
    end: datetime
    step: timedelta
    schedules: Mapping[str, OccupancySchedule] = field(default_factory=dict)  # equipment id -> schedule
    hourly: Mapping[str, Mapping[datetime, float]] = field(default_factory=dict)  # meter point -> kWh per hour
    comparable: Callable[[datetime], Hashable] = lambda hour: hour.hour
    price: Callable[[str, datetime], Decimal | None] = lambda point, hour: None  # per unit of the point
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class NotCovered:
    """A rule that could not be applied to an equipment because points are missing from the YAML."""

    equipment: str
    kind: str
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HvacResult:
    conditions: tuple[Condition, ...]
    not_covered: tuple[NotCovered, ...]


@dataclass(frozen=True, slots=True)
class _Found:
    kind: str
    title: str
    subject: str
    equipment: tuple[Equipment, ...]
    zone: str | None
    episode: Episode
    step: timedelta | None = None  # how long each fault instant stands for; None: the inputs' step


def _grid(inputs: HvacInputs) -> Iterator[datetime]:
    t = inputs.start
    while t <= inputs.end:
        yield t
        t += inputs.step


def _unit_findings(inputs: HvacInputs, trends: Trends, settings: RuleSettings) -> tuple[list[_Found], list[NotCovered]]:
    found: list[_Found] = []
    missing: list[NotCovered] = []
    for eq in inputs.equipment:
        roles = frozenset(eq.points)
        snaps: list[Snapshot] | None = None
        for rule in unit_rules(roles):
            absent = tuple(r for r in rule.needs if r not in roles)
            if absent:
                # say what is missing where the rule half applies, and always for the simultaneous rule
                # (except on a radiator circuit, which has no cooling valve by design)
                central = rule.kind == SIMULTANEOUS
                if central and eq.kind in HEATING_ONLY:
                    continue
                if not rule.optional and (len(absent) < len(rule.needs) or central):
                    missing.append(NotCovered(eq.id, rule.kind, absent))
                continue
            if snaps is None:
                snaps = [snapshot(eq, trends, t) for t in _grid(inputs)]
            steps = (Step(s.ts, rule.judge(s, settings), s.evidence()) for s in snaps)
            for episode in episodes(steps, inputs.step, settings.persistence):
                found.append(_Found(rule.kind, rule.title, eq.id, (eq,), eq.zone, episode))
    return found, missing


def _zone_findings(inputs: HvacInputs, trends: Trends, settings: RuleSettings) -> list[_Found]:
    """Heating-only equipment (perimeter radiators) against cooling equipment serving the same zone."""
    found: list[_Found] = []
    zones = sorted({eq.zone for eq in inputs.equipment if eq.zone is not None})
    e = settings.valve_open_pct
    for zone in zones:
        members = [eq for eq in inputs.equipment if eq.zone == zone]
        heaters = [eq for eq in members if eq.has(HEATING_VALVE) and not eq.has(COOLING_VALVE)]
        coolers = [eq for eq in members if eq.has(COOLING_VALVE)]
        if not heaters or not coolers:
            continue
        steps: list[Step] = []
        for t in _grid(inputs):
            snaps = [snapshot(eq, trends, t) for eq in heaters + coolers]
            values: dict[str, float] = {}
            for s in snaps:
                values.update(s.evidence())
            heat = [s.get(HEATING_VALVE) for s in snaps[: len(heaters)]]
            cool: list[float | None] = []
            for s in snaps[len(heaters) :]:
                state = running(s)
                cool.append(None if state is None else (s.get(COOLING_VALVE) if state else 0.0))
            if any(v is None for v in heat + cool):
                steps.append(Step(t, Judgement(Verdict.GAP), values))
                continue
            fighting = any(v is not None and v > e for v in heat) and any(v is not None and v > e for v in cool)
            steps.append(Step(t, Judgement(Verdict.FAULT if fighting else Verdict.CLEAR), values))
        subject = f"zone {zone}"
        for episode in episodes(steps, inputs.step, settings.persistence):
            found.append(
                _Found(
                    ZONE_FIGHT,
                    "heating and cooling fight in one zone",
                    subject,
                    tuple(heaters + coolers),
                    zone,
                    episode,
                )
            )
    return found


def _zone_meter_findings(inputs: HvacInputs, settings: RuleSettings) -> list[_Found]:
    return [
        _Found(
            ZONE_METERS,
            "heating and cooling meters active together",
            f"zone {z.zone}",
            z.equipment,
            z.zone,
            z.episode,
            HOUR,
        )
        for z in zone_meter_episodes(inputs.equipment, inputs.hourly, inputs.start, inputs.end, settings)
    ]


def _zone_setpoint_findings(inputs: HvacInputs, trends: Trends, settings: RuleSettings) -> list[_Found]:
    return [
        _Found(ZONE_SETPOINTS, "units' setpoints cross", f"zone {z.zone}", z.equipment, z.zone, z.episode)
        for z in zone_setpoint_episodes(inputs.equipment, trends, _grid(inputs), inputs.step, settings)
    ]


def _ventilation_findings(inputs: HvacInputs, trends: Trends, settings: RuleSettings) -> list[_Found]:
    found: list[_Found] = []
    for eq in inputs.equipment:
        schedule = inputs.schedules.get(eq.id)
        if schedule is None or not (eq.has(FAN_STATUS) or eq.has(FAN_SPEED)):
            continue
        steps: list[Step] = []
        for t in _grid(inputs):
            snap = snapshot(eq, trends, t)
            state = running(snap)
            occupied = schedule.occupied(t)
            values = {**snap.evidence(), f"{eq.id}.occupied": 1.0 if occupied else 0.0}
            verdict = Verdict.GAP if state is None else Verdict.FAULT if state and not occupied else Verdict.CLEAR
            steps.append(Step(t, Judgement(verdict, f"schedule from {schedule.source}"), values))
        for episode in episodes(steps, inputs.step, settings.persistence):
            found.append(_Found(VENTILATION, "ventilates while unoccupied", eq.id, (eq,), eq.zone, episode))
    return found


def _mode(eq: Equipment, trends: Trends, t: datetime, e: float) -> float | None:
    if eq.has(OPERATING_MODE):
        return trends.value(eq.points[OPERATING_MODE], t)
    heating = trends.value(eq.points[HEATING_VALVE], t)
    cooling = trends.value(eq.points[COOLING_VALVE], t)
    if heating is None or cooling is None:
        return None
    return 1.0 if heating > e else (2.0 if cooling > e else 0.0)


def _hunting_findings(inputs: HvacInputs, trends: Trends, settings: RuleSettings) -> list[_Found]:
    """More mode switches in the trailing hour than APAR's limit (counted at every sample instant)."""
    found: list[_Found] = []
    hour = timedelta(hours=1)
    for eq in inputs.equipment:
        if not (eq.has(OPERATING_MODE) or eq.has(HEATING_VALVE, COOLING_VALVE)):
            continue
        roles = [OPERATING_MODE] if eq.has(OPERATING_MODE) else [HEATING_VALVE, COOLING_VALVE]
        instants = sorted({s.ts for r in roles for s in inputs.trends.get(eq.points[r], ())})
        steps: list[Step] = []
        for t in _grid(inputs):
            window = instants[bisect_right(instants, t - hour) : bisect_right(instants, t)]
            modes = [_mode(eq, trends, i, settings.valve_open_pct) for i in window]
            known = [m for m in modes if m is not None]
            if not known:
                steps.append(Step(t, Judgement(Verdict.GAP), {}))
                continue
            switches = sum(1 for a, b in itertools.pairwise(known) if a != b)
            verdict = Verdict.FAULT if switches > settings.max_mode_switches_per_hour else Verdict.CLEAR
            steps.append(Step(t, Judgement(verdict), {f"{eq.id}.mode_switches_per_hour": float(switches)}))
        for episode in episodes(steps, inputs.step, settings.persistence):
            found.append(_Found(HUNTING, "hunts between heating and cooling", eq.id, (eq,), eq.zone, episode))
    return found


def _waste(found: _Found, all_found: list[_Found], inputs: HvacInputs) -> tuple[Waste | None, dict[str, object]]:
    """Waste per meter (its share applied), then per resource: each resource at its own tariff, never summed."""
    if found.kind not in WASTEFUL:
        return None, {}
    shares = {m.point_id: m for eq in found.equipment for m in eq.meters}
    if found.kind == ZONE_METERS:  # the heat and cooling meters that fought; not the fans' electricity
        shares = {p: m for p, m in shares.items() if m.resource in ("heat", "cooling")}
    if not shares:
        return None, {}
    mine = conflict_hours(found.episode.fault_times, found.step or inputs.step)
    per_meter: dict[str, object] = {}
    energy: dict[tuple[str, str], float] = {}
    cost: dict[tuple[str, str], Decimal | None] = {}
    for point_id, share in sorted(shares.items()):
        hourly = inputs.hourly.get(point_id)
        if not hourly:
            continue
        # baseline hours exclude every hour any wasteful finding on this meter was in fault
        busy: set[datetime] = set()
        for other in all_found:
            if other.kind in WASTEFUL and any(m.point_id == point_id for eq in other.equipment for m in eq.meters):
                busy |= conflict_hours(other.episode.fault_times, other.step or inputs.step)
        hours = [h for h in wasted(hourly, busy, inputs.comparable) if h.hour in mine]
        excess = sum(h.excess for h in hours) * share.share
        meter_cost = priced(hours, _price_of(inputs, point_id))
        if meter_cost is not None:
            meter_cost = (meter_cost * Decimal(repr(share.share))).quantize(Decimal("0.01"))
        per_meter[point_id] = {
            "resource": share.resource or None,
            "energy": round(excess, 3),
            "unit": share.unit,
            "share": share.share,
            "cost": str(meter_cost) if meter_cost is not None else None,  # None: no tariff prices this meter
        }
        key = (share.resource, share.unit)
        energy[key] = energy.get(key, 0.0) + excess
        if key not in cost:
            cost[key] = meter_cost
        else:  # one unpriced meter leaves its resource unpriced: no figure that silently omits it
            known = cost[key]
            cost[key] = None if known is None or meter_cost is None else known + meter_cost
    if not energy:
        return None, per_meter
    parts = [
        ResourceWaste(
            resource or "energy",
            round(value, 3),
            unit,
            cost[(resource, unit)],
            inputs.currency if cost[(resource, unit)] is not None else None,
        )
        for (resource, unit), value in sorted(energy.items())
    ]
    return Waste.of(parts, inputs.currency), per_meter


def _price_of(inputs: HvacInputs, point_id: str) -> Callable[[datetime], Decimal | None]:
    def price(hour: datetime) -> Decimal | None:
        return inputs.price(point_id, hour)

    return price


def evaluate(inputs: HvacInputs, settings: RuleSettings | None = None) -> HvacResult:
    settings = settings or RuleSettings()
    trends = Trends(inputs.trends, settings.max_sample_age)
    unit_found, missing = _unit_findings(inputs, trends, settings)
    all_found = (
        unit_found
        + _zone_findings(inputs, trends, settings)
        + _zone_meter_findings(inputs, settings)
        + _zone_setpoint_findings(inputs, trends, settings)
        + _ventilation_findings(inputs, trends, settings)
        + _hunting_findings(inputs, trends, settings)
    )
    conditions: list[Condition] = []
    for f in all_found:
        waste, per_meter = _waste(f, all_found, inputs)
        tenants = tuple(sorted({t for eq in f.equipment for t in eq.tenants}))
        ep = f.episode
        conditions.append(
            Condition(
                key=f"{f.kind}:{f.subject}:{ep.start.isoformat()}",
                kind=f.kind,
                subject=f.subject,
                title=f"{f.subject} {f.title}",
                started_at=ep.start,
                ended_at=ep.end,
                equipment="+".join(eq.id for eq in f.equipment),
                zone=f.zone,
                tenants=tenants,
                evidence=ep.evidence,
                waste=waste,
                details={
                    "rules": list(ep.details),
                    "fault_hours": round(len(ep.fault_times) * (f.step or inputs.step) / timedelta(hours=1), 2),
                    "meters": per_meter,
                },
            )
        )
    conditions.sort(key=lambda c: (c.started_at, c.key))
    return HvacResult(tuple(conditions), tuple(missing))
