"""Stuck meters: a register that stops moving while its parent meter draws and it usually draws too.

A quarter hour of zero on its own says nothing (an empty office at night draws nothing on a water
meter); it counts here only in an hour of the week in which the point drew in at least
`usually_drawing` of the same hours of its `reference` history. A run of zeros is reported once those
hours add up to `stuck_after` and the parent meter drew in nine of ten of the run's quarter hours.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import SLOT, utc
from metering.anomalies.site import area_label, building_of, parent_point, tenants_of_point
from metering.events import Condition, EvidenceSample
from metering.readings import Interval, Quality
from point_mapping.model import Point, SiteModel

KIND = "anomaly.stuck_meter"
PARENT_DRAWING = 0.9  # of the run's quarter hours
MIN_SAMPLES = 4  # same hours in the reference needed to say what is usual


def _class_of(site: SiteModel, holidays: frozenset[object], moment: datetime) -> Hashable:
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


def stuck(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    if not rule.enabled:
        return []
    conditions: list[Condition] = []
    for point in site.points:
        parent = parent_point(site, point)
        if parent is None:
            continue
        series = inputs.series(point.id)
        if not series:
            continue
        parent_by_start = {i.start: i.value for i in inputs.series(parent)}
        starts = [i.start for i in series]
        for run in zero_runs(series):
            if run.end <= utc(inputs.start):
                continue
            condition = _judge(inputs, point, parent, series, starts, parent_by_start, run)
            if condition is not None:
                conditions.append(condition)
    return conditions


def _judge(
    inputs: AnomalyInputs,
    point: Point,
    parent: str,
    series: Sequence[Interval],
    starts: Sequence[datetime],
    parent_by_start: Mapping[datetime, float],
    run: ZeroRun,
) -> Condition | None:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    holidays: frozenset[object] = frozenset(inputs.holidays)
    reference = series[bisect_left(starts, run.start - rule.reference) : bisect_left(starts, run.start)]
    drew: dict[Hashable, list[bool]] = {}
    usual_value: dict[Hashable, list[float]] = {}
    for interval in reference:
        key = _class_of(site, holidays, interval.start)
        drew.setdefault(key, []).append(interval.value > 0)
        usual_value.setdefault(key, []).append(interval.value)
    usual = [
        i
        for i in run.slots
        if len(drew.get(key := _class_of(site, holidays, i.start), [])) >= MIN_SAMPLES
        and sum(drew[key]) >= rule.usually_drawing * len(drew[key])
    ]
    if len(usual) * SLOT < rule.stuck_after:
        return None
    parent_drew = sum(1 for i in run.slots if parent_by_start.get(i.start, 0.0) > 0)
    if parent_drew < PARENT_DRAWING * len(run.slots):
        return None
    missing = sum(
        sum(usual_value[k]) / len(usual_value[k])
        for i in run.slots
        if (k := _class_of(site, holidays, i.start)) in usual_value
    )
    ongoing = run.slots[-1] is series[-1]
    parent_total = sum(parent_by_start.get(i.start, 0.0) for i in run.slots)
    area = area_label(site, point)
    hours = len(run.slots) * SLOT.total_seconds() / 3600
    details: dict[str, object] = {
        "point": point.id,
        "area": area,
        "parent": parent,
        "zero_hours": hours,
        "usually_drawing_hours": len(usual) * SLOT.total_seconds() / 3600,
        "parent_consumption": round(parent_total, 3),
        "estimated_missing": round(missing, 3),
        "unit": point.unit,
        "since_window_start": run.slots[0] is series[0],
    }
    evidence = tuple(
        EvidenceSample(i.start, {point.id: i.value, parent: parent_by_start.get(i.start, 0.0)})
        for i in (run.slots[0], run.slots[-1])
    )
    return Condition(
        key=f"{KIND}:{point.id}:{run.start.isoformat()}",
        kind=KIND,
        subject=point.id,
        title=(
            f"Meter {point.id}{f' in {area}' if area else ''} stuck: no consumption for {hours:g} h "
            f"while {parent} drew {parent_total:,.1f} {point.unit or ''}; "
            f"about {missing:,.1f} {point.unit or ''} not metered"
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
