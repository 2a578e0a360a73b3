"""Heating and cooling energy meters of one zone group active together, hour by hour.

The valve rules see what the BMS commands; this rule sees what the meters measured. A zone group is the
equipment of one zone; its heat meters and its cooling meters are those of its equipment (a meter shared
with other zones, such as one chiller, counts for each zone it serves). An hour is in FAULT when at least
one heat meter and one cooling meter of the group each used more than `meter_active_pct` of their own peak
hour in the data at hand, CLEAR otherwise, and GAP (suspended) when any of the group's meters has no
consumption for that hour. Persistence then applies as for every rule, each hour counting one hour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from metering.hvac.episodes import Episode, Step, episodes
from metering.hvac.equipment import Equipment
from metering.hvac.rules import Judgement, Verdict
from metering.hvac.settings import RuleSettings

HOUR = timedelta(hours=1)
HEAT = "heat"
COOLING = "cooling"


@dataclass(frozen=True, slots=True)
class ZoneMeterEpisode:
    zone: str
    equipment: tuple[Equipment, ...]  # the members of the group that carry its heat or cooling meters
    episode: Episode


def _hours(start: datetime, end: datetime) -> list[datetime]:
    """Whole hours inside [start, end] (UTC starts): a partial hour is judged once it is complete."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += HOUR
    found: list[datetime] = []
    h = first
    while h + HOUR <= end:
        found.append(h)
        h += HOUR
    return found


def _threshold(series: Mapping[datetime, float], pct: float) -> float:
    return max(series.values(), default=0.0) * pct / 100.0


def _fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def zone_meter_episodes(
    equipment: Sequence[Equipment],
    hourly: Mapping[str, Mapping[datetime, float]],
    start: datetime,
    end: datetime,
    settings: RuleSettings,
) -> list[ZoneMeterEpisode]:
    found: list[ZoneMeterEpisode] = []
    zones = sorted({eq.zone for eq in equipment if eq.zone is not None})
    for zone in zones:
        members = [eq for eq in equipment if eq.zone == zone]
        heat = sorted({m.point_id for eq in members for m in eq.meters if m.resource == HEAT})
        cool = sorted({m.point_id for eq in members for m in eq.meters if m.resource == COOLING})
        if not heat or not cool:
            continue
        carriers = tuple(eq for eq in members if any(m.resource in (HEAT, COOLING) for m in eq.meters))
        limits = {p: _threshold(hourly.get(p, {}), settings.meter_active_pct) for p in heat + cool}
        units = {m.point_id: m.unit for eq in members for m in eq.meters}
        detail = "active above " + ", ".join(f"{p} {_fmt(limits[p])} {units[p]}/h" for p in heat + cool)
        steps: list[Step] = []
        for h in _hours(start, end):
            used = {p: hourly.get(p, {}).get(h) for p in heat + cool}
            values = {p: v for p, v in used.items() if v is not None}
            if len(values) < len(used):
                steps.append(Step(h, Judgement(Verdict.GAP), values))
                continue
            heating = any(values[p] > limits[p] for p in heat)
            cooling = any(values[p] > limits[p] for p in cool)
            verdict = Verdict.FAULT if heating and cooling else Verdict.CLEAR
            steps.append(Step(h, Judgement(verdict, detail if verdict is Verdict.FAULT else ""), values))
        for episode in episodes(steps, HOUR, settings.persistence):
            found.append(ZoneMeterEpisode(zone, carriers, episode))
    return found
