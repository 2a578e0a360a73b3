"""Golden HVAC fixtures: `tests/fixtures/hvac_<case>/input.yaml` → `expected.json`.

input.yaml holds the period, the equipment (roles → point ids), each point's series as values every
`every` from `start` (null = no sample: a data gap), optional schedules and rule settings. expected.json
lists the findings a person can check against the series by hand, and the rules not covered.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from metering.hvac.equipment import Equipment, MeterShare
from metering.hvac.evaluate import HvacInputs, HvacResult, evaluate
from metering.hvac.schedule import OccupancySchedule, ScheduleException
from metering.hvac.settings import RuleSettings
from metering.trends import TrendKind, TrendSample

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAYS = {"mon": [0], "tue": [1], "wed": [2], "thu": [3], "fri": [4], "sat": [5], "sun": [6],
        "weekdays": [0, 1, 2, 3, 4], "weekend": [5, 6]}  # fmt: skip


def cases() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith("hvac_"))


def _minutes(text: str) -> timedelta:
    assert text.endswith("min"), text
    return timedelta(minutes=int(text[:-3]))


def _changes(items: list[list[Any]]) -> tuple[tuple[time, bool], ...]:
    return tuple((time.fromisoformat(at), bool(value)) for at, value in items)


def _schedule(data: dict[str, Any], zone: ZoneInfo) -> OccupancySchedule:
    weekly: list[tuple[tuple[time, bool], ...]] = [() for _ in range(7)]
    for days, changes in data.get("weekly", {}).items():
        for d in DAYS[days]:
            weekly[d] = _changes(changes)
    exceptions = tuple(
        ScheduleException(
            _changes(e.get("changes", [])),
            dates=frozenset(date.fromisoformat(str(d)) for d in e.get("dates", [])),
            priority=e.get("priority", 16),
        )
        for e in data.get("exceptions", [])
    )
    return OccupancySchedule(tuple(weekly), zone, exceptions, source=data.get("source", "bms"))


def load(case: str) -> tuple[HvacInputs, RuleSettings]:
    data = yaml.safe_load((FIXTURES / case / "input.yaml").read_text())
    zone = ZoneInfo(data.get("timezone", "Europe/Berlin"))
    start = datetime.fromisoformat(str(data["start"])).replace(tzinfo=zone)
    end = datetime.fromisoformat(str(data["end"])).replace(tzinfo=zone)
    step = _minutes(data.get("step", "15min"))
    trends: dict[str, list[TrendSample]] = {}
    for point, series in data.get("series", {}).items():
        every = _minutes(series.get("every", "15min"))
        kind = TrendKind(series.get("kind", "analog"))
        trends[point] = [
            TrendSample(point, start + i * every, kind, float(v))
            for i, v in enumerate(series["values"])
            if v is not None
        ]
    equipment = [
        Equipment(
            e["id"],
            e.get("kind", "ahu"),
            e.get("zone"),
            e.get("points", {}),
            tuple(e.get("tenants", [])),
            tuple(
                MeterShare(m["point"], m.get("unit", "kWh"), m.get("share", 1.0), m["resource"])
                for m in e.get("meters", [])
            ),
        )
        for e in data["equipment"]
    ]
    # hourly consumption per meter point, one value an hour from `hourly_start` (default: start)
    first_hour = datetime.fromisoformat(str(data.get("hourly_start", data["start"]))).replace(tzinfo=zone)
    hourly = {
        point: {first_hour + i * timedelta(hours=1): float(v) for i, v in enumerate(values) if v is not None}
        for point, values in data.get("hourly", {}).items()
    }
    schedules = {eq: _schedule(s, zone) for eq, s in data.get("schedules", {}).items()}
    raw = data.get("settings", {})
    settings = RuleSettings(
        **{k: (_minutes(v) if isinstance(v, str) else v) for k, v in raw.items()}  # durations as "60min"
    )
    return HvacInputs(
        equipment,
        trends,
        start,
        end,
        step,
        schedules=schedules,
        hourly=hourly,
        comparable=lambda hour: hour.astimezone(zone).hour,  # the same local hour of day
    ), settings


def summary(result: HvacResult, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "findings": [
            {
                "kind": c.kind,
                "subject": c.subject,
                "equipment": c.equipment,
                "started_at": c.started_at.astimezone(zone).isoformat(),
                "ended_at": c.ended_at.astimezone(zone).isoformat() if c.ended_at else None,
                "rules": c.details.get("rules", []),
                "fault_hours": c.details.get("fault_hours"),
                "tenants": list(c.tenants),
                # per resource, never summed across resources
                **({"waste": [f"{p.resource} {p.energy:g} {p.unit}" for p in c.waste.by_resource]} if c.waste else {}),
            }
            for c in result.conditions
        ],
        "not_covered": sorted(f"{n.equipment}: {n.kind} needs {', '.join(n.missing)}" for n in result.not_covered),
    }


def run_case(case: str) -> dict[str, Any]:
    inputs, settings = load(case)
    zone = inputs.start.tzinfo
    assert isinstance(zone, ZoneInfo)
    return summary(evaluate(inputs, settings), zone)


def expected(case: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / case / "expected.json").read_text())
    return result
