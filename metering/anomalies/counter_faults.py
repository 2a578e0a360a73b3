"""Resets, decreases and spikes as meter-health findings, from the counter faults the validation stored.

The validation before counting (`metering.counters`) already decides, reading by reading, whether a
register went backwards, a pulse controller restarted, a step exceeded what the meter can physically
measure (its plausibility cap from rating, CT ratio or nominal flow) or a reading was a transient
glitch, and stores each as a `counter_fault` event. This rule does not look at readings again: it
gathers those events per point, kind and local day into findings of the shared event model, so they
are listed, acknowledged and exposed to the BMS like the other findings. A finding stays open while
its faults lie inside the period judged (`anomalies.lookback`), then closes (docs/anomalies.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import utc
from metering.anomalies.site import area_label, building_of, tenants_of_point
from metering.events import Condition, Event, EvidenceSample

RESET = "anomaly.meter_reset"
SPIKE = "anomaly.meter_spike"
SOURCE_KIND = "counter_fault"  # metering.consumption.FAULT_EVENT_KIND (not imported: that module reads the store)
EVIDENCE = 8  # faults shown as samples per finding

# fault kind -> (finding kind, severity, what it means in a title)
_ADOPTED: dict[str, tuple[str, str, str]] = {
    "backwards": (RESET, "warning", "register went backwards"),
    "counter-reset": (RESET, "info", "counter restarted from zero"),
    "implausible": (SPIKE, "warning", "step beyond what the meter can measure"),
    "out-of-range": (SPIKE, "warning", "value outside what the register can hold"),
}


def _classify(event: Event) -> tuple[str, str, str] | None:
    fault = str(event.details.get("fault", ""))
    if fault == "glitch":  # a transient reading, ignored; its direction says which it was
        before, after = event.details.get("before"), event.details.get("after")
        if before is None or after is None:
            return None
        if after > before:
            return SPIKE, "info", "transient spike, ignored"
        return RESET, "info", "transient dip, ignored"
    return _ADOPTED.get(fault)


def counter_faults(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    if not rule.enabled:
        return []
    zone = site.site.zone
    groups: dict[tuple[str, str, date], list[tuple[Event, str, str]]] = {}
    for event in inputs.counter_faults:
        if event.kind != SOURCE_KIND or event.subject not in site.point_by_id:
            continue
        if not utc(inputs.start) <= utc(event.started_at) < utc(inputs.end):
            continue
        found = _classify(event)
        if found is None:
            continue
        kind, severity, meaning = found
        day = event.started_at.astimezone(zone).date()
        groups.setdefault((kind, event.subject, day), []).append((event, severity, meaning))
    return [_condition(inputs, kind, point_id, day, faults) for (kind, point_id, day), faults in sorted(groups.items())]


def _condition(
    inputs: AnomalyInputs, kind: str, point_id: str, day: date, faults: Sequence[tuple[Event, str, str]]
) -> Condition:
    site = inputs.site
    point = site.point_by_id[point_id]
    ordered = sorted(faults, key=lambda f: f[0].started_at)
    first = ordered[0][0]
    severity = "warning" if any(s == "warning" for _, s, _ in ordered) else "info"
    meanings = sorted({m for _, _, m in ordered})
    listed: list[dict[str, Any]] = [
        {
            "ts": e.started_at.isoformat(),
            "fault": e.details.get("fault"),
            "before": e.details.get("before"),
            "after": e.details.get("after"),
            "message": e.title,
            "counter_fault": e.dedup_key,
        }
        for e, _, _ in ordered
    ]
    area = area_label(site, point)
    what = "reset or decrease" if kind == RESET else "spike"
    count = len(ordered)
    details: dict[str, Any] = {
        "point": point_id,
        "area": area,
        "day": day.isoformat(),
        "faults": listed,
        "count": count,
        "meanings": meanings,
        "unit_of_values": "raw register (before CT ratio or pulse weight)",
    }
    evidence = tuple(
        EvidenceSample(e.started_at, {f"{point_id}.before": e.details["before"], point_id: e.details["after"]})
        if e.details.get("before") is not None and e.details.get("after") is not None
        else EvidenceSample(e.started_at, {})
        for e, _, _ in ordered[:EVIDENCE]
    )
    return Condition(
        key=f"{kind}:{point_id}:{day.isoformat()}",
        kind=kind,
        subject=point_id,
        title=(
            f"Meter {point_id}{f' in {area}' if area else ''}: {count} {what}{'s' if count != 1 else ''} on {day}"
            f" ({'; '.join(meanings)})"
        ),
        started_at=first.started_at,
        severity=severity,
        equipment=point.meter,
        zone=building_of(site, point),
        tenants=tenants_of_point(site, point, day),
        evidence=evidence,
        details=details,
    )
