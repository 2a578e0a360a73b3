"""Stuck meters: a register that stops moving while the load it measures is still there.

A quarter hour of zero on its own says nothing (an empty office at night draws nothing on a water
meter); it counts here only in an hour of the week in which the point drew in at least
`usually_drawing` of the same hours of its `reference` history. A run of zeros is reported once those
hours add up to `stuck_after`, and only if the load did not simply stop: what a stuck sub-meter misses
still flows through its parent, so the parent's unmetered rest (parent less all its sub-meters) must
have risen by at least half of what the point usually draws in those hours (where the rest cannot be
formed: the parent less its usual draw besides the point). A chiller idle on a cool
day, or a coarse register that moves once a day at low load, leaves the rest where it was. Nor is a
run reported while what the parent shows the point could have drawn (that rise, and at most the
parent's whole consumption) is less than two steps of the point's register
(`resolution`): a 0.3 kW standby behind a CT of 60 on a 0.1 kWh register moves it once in 20 hours.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import SLOT, utc
from metering.anomalies.site import area_label, building_of, metered_groups, parent_point, tenants_of_point
from metering.events import Condition, EvidenceSample
from metering.readings import Interval, Quality
from point_mapping.model import Point, SiteModel

KIND = "anomaly.stuck_meter"
PARENT_DRAWING = 0.9  # of the run's quarter hours
MIN_SAMPLES = 4  # same hours in the reference needed to say what is usual
REST_RISE = 0.5  # of the point's usual consumption that must show up in the parent's unmetered rest
# a register moves at least once when one step has flowed; two leave room for noise in what the parent shows
RESOLUTION_STEPS = 2

HourClass = tuple[int, bool]


def _class_of(site: SiteModel, holidays: frozenset[date], moment: datetime) -> HourClass:
    local = moment.astimezone(site.site.zone)
    return local.hour, local.weekday() < 5 and local.date() not in holidays


@dataclass(frozen=True, slots=True)
class ZeroRun:
    slots: tuple[Interval, ...]

    @property
    def start(self) -> datetime:
        return self.slots[0].start

    @property
    def end(self) -> datetime:
        return self.slots[-1].start + SLOT


def zero_runs(series: Sequence[Interval]) -> list[ZeroRun]:
    """Runs of consecutive quarter hours without consumption (a missing quarter hour ends a run)."""
    runs: list[ZeroRun] = []
    current: list[Interval] = []
    for interval in series:
        zero = interval.value <= 0 and interval.quality is not Quality.QUESTIONABLE
        if zero and (not current or interval.start == current[-1].start + SLOT):
            current.append(interval)
            continue
        if current:
            runs.append(ZeroRun(tuple(current)))
        current = [interval] if zero else []
    if current:
        runs.append(ZeroRun(tuple(current)))
    return runs


@dataclass(frozen=True, slots=True)
class Family:
    """A sub-meter's point, its parent's, and the parent's unmetered rest per quarter hour."""

    point: Point
    parent: str
    parent_by_start: Mapping[datetime, float]
    rest_by_start: Mapping[datetime, float]


def _rest(inputs: AnomalyInputs, parent: str) -> dict[datetime, float]:
    """parent - Σ its sub-meters' points, where all of them have the quarter hour."""
    group = next((g for g in metered_groups(inputs.site) if g.main == parent), None)
    if group is None:
        return {}
    subs = [{i.start: i.value for i in inputs.series(s)} for s in group.subs]
    rest: dict[datetime, float] = {}
    for interval in inputs.series(parent):
        values = [s.get(interval.start) for s in subs]
        if all(v is not None for v in values):
            rest[interval.start] = interval.value - sum(v for v in values if v is not None)
    return rest


def stuck(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    if not rule.enabled:
        return []
    conditions: list[Condition] = []
    rests: dict[str, dict[datetime, float]] = {}
    for point in site.points:
        parent = parent_point(site, point)
        series = inputs.series(point.id)
        if parent is None or not series:
            continue
        runs = [r for r in zero_runs(series) if r.end > utc(inputs.start)]
        if not runs:
            continue
        if parent not in rests:
            rests[parent] = _rest(inputs, parent)
        family = Family(point, parent, {i.start: i.value for i in inputs.series(parent)}, rests[parent])
        starts = [i.start for i in series]
        for run in runs:
            condition = _judge(inputs, family, series, starts, run)
            if condition is not None:
                conditions.append(condition)
    return conditions


def _usual(
    inputs: AnomalyInputs, reference: Sequence[Interval], values: Mapping[datetime, float] | None = None
) -> tuple[dict[HourClass, float], dict[HourClass, float]]:
    """Per hour class of the reference: the share of quarter hours that drew, and the mean value."""
    drew: dict[HourClass, list[float]] = {}
    for interval in reference:
        value = interval.value if values is None else values.get(interval.start)
        if value is not None:
            drew.setdefault(_class_of(inputs.site, inputs.holidays, interval.start), []).append(value)
    share = {k: sum(1 for v in vs if v > 0) / len(vs) for k, vs in drew.items() if len(vs) >= MIN_SAMPLES}
    mean = {k: sum(vs) / len(vs) for k, vs in drew.items() if len(vs) >= MIN_SAMPLES}
    return share, mean


def _judge(
    inputs: AnomalyInputs, family: Family, series: Sequence[Interval], starts: Sequence[datetime], run: ZeroRun
) -> Condition | None:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    point, parent = family.point, family.parent
    reference = series[bisect_left(starts, run.start - rule.reference) : bisect_left(starts, run.start)]
    share, mean = _usual(inputs, reference)
    classes = [_class_of(site, inputs.holidays, i.start) for i in run.slots]
    usual = [c for c in classes if share.get(c, 0.0) >= rule.usually_drawing]
    if len(usual) * SLOT < rule.stuck_after:
        return None
    parent_drew = sum(1 for i in run.slots if family.parent_by_start.get(i.start, 0.0) > 0)
    if parent_drew < PARENT_DRAWING * len(run.slots):
        return None
    missing = sum(mean.get(c, 0.0) for c in classes)
    _, rest_mean = _usual(inputs, reference, family.rest_by_start)
    in_run = [(i.start, c) for i, c in zip(run.slots, classes, strict=True) if i.start in family.rest_by_start]
    rise = sum(family.rest_by_start[t] - rest_mean.get(c, 0.0) for t, c in in_run)
    if family.rest_by_start and rise < REST_RISE * missing:
        return None  # the load stopped (or the register is coarse): nothing went missing from the parent
    parent_total = sum(family.parent_by_start.get(i.start, 0.0) for i in run.slots)
    # what the parent shows the point drew unseen: the rise of its rest, or where the rest cannot be
    # formed, the parent less what it usually draws besides the point (its usual less the point's usual)
    if family.rest_by_start:
        visible = rise
    else:
        _, parent_mean = _usual(inputs, reference, family.parent_by_start)
        visible = sum(
            family.parent_by_start.get(i.start, 0.0) - parent_mean.get(c, 0.0) + mean.get(c, 0.0)
            for i, c in zip(run.slots, classes, strict=True)
        )
        if visible < REST_RISE * missing:
            return None  # the parent dropped with the point: the load stopped
    step = inputs.steps.get(point.id)
    if step is not None and min(visible, parent_total) < RESOLUTION_STEPS * step:
        return None  # less than the point's register can show has flowed: a zero is what a good meter reads
    ongoing = run.slots[-1] is series[-1]
    area = area_label(site, point)
    hours = len(run.slots) * SLOT.total_seconds() / 3600
    unit = point.unit or ""
    details: dict[str, object] = {
        "point": point.id,
        "area": area,
        "parent": parent,
        "zero_hours": hours,
        "usually_drawing_hours": len(usual) * SLOT.total_seconds() / 3600,
        "parent_consumption": round(parent_total, 3),
        "estimated_missing": round(missing, 3),
        "unmetered_rise": round(rise, 3) if family.rest_by_start else None,
        "register_step": step,
        "parent_shows": round(visible, 3),
        "unit": point.unit,
        "since_window_start": run.slots[0] is series[0],
    }
    evidence = tuple(
        EvidenceSample(i.start, {point.id: i.value, parent: family.parent_by_start.get(i.start, 0.0)})
        for i in (run.slots[0], run.slots[-1])
    )
    return Condition(
        key=f"{KIND}:{point.id}:{run.start.isoformat()}",
        kind=KIND,
        subject=point.id,
        title=(
            f"Meter {point.id}{f' in {area}' if area else ''} stuck: no consumption for {hours:g} h "
            f"while {parent} drew {parent_total:,.1f} {unit}; about {missing:,.1f} {unit} not metered"
        ),
        started_at=run.start,
        ended_at=None if ongoing else run.end,
        severity="warning",
        equipment=point.meter,
        zone=building_of(site, point),
        tenants=tenants_of_point(site, point, run.start.astimezone(site.site.zone).date()),
        evidence=evidence,
        details=details,
    )
