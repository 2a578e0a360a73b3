"""Setpoints that cross between two units serving one zone: one heats the air the other cools.

Each unit's own pair of setpoints may be fine (`hvac.setpoints_crossed` checks those), yet a perimeter
circuit heating to 23 °C and a fan coil cooling to 22 °C in the same zone fight all day. At an instant,
for every ordered pair of distinct running units (a, b) of one zone where a has a heating setpoint and b a
cooling setpoint, the pair fights when b's cooling setpoint is less than `min_deadband_k` above a's
heating setpoint (crossed, or too narrow a band between them). FAULT when a pair fights; otherwise GAP
when a pair cannot be judged (a setpoint or the running state unknown); OFF when every pair has a unit
that is off; CLEAR else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from metering.hvac.episodes import Episode, Step, episodes
from metering.hvac.equipment import COOLING_SETPOINT, HEATING_SETPOINT, Equipment, Trends, running, snapshot
from metering.hvac.rules import Judgement, Verdict
from metering.hvac.settings import RuleSettings


@dataclass(frozen=True, slots=True)
class ZoneSetpointEpisode:
    zone: str
    equipment: tuple[Equipment, ...]
    episode: Episode


def _judge(pairs: list[tuple[Equipment, Equipment]], trends: Trends, t: datetime, band: float) -> Step:
    values: dict[str, float] = {}
    state: dict[str, bool | None] = {}
    gap = off = False
    fights: list[str] = []
    units = {eq.id: eq for pair in pairs for eq in pair}
    for eq in units.values():
        snap = snapshot(eq, trends, t)
        values.update(snap.evidence())
        state[eq.id] = running(snap)
    for heater, cooler in pairs:
        heating = trends.value(heater.points[HEATING_SETPOINT], t)
        cooling = trends.value(cooler.points[COOLING_SETPOINT], t)
        if state[heater.id] is False or state[cooler.id] is False:
            off = True
            continue
        if heating is None or cooling is None or state[heater.id] is None or state[cooler.id] is None:
            gap = True
            continue
        if cooling - heating < band:
            fights.append(f"{heater.id} heats to {heating:g}, {cooler.id} cools to {cooling:g}")
    if fights:
        return Step(t, Judgement(Verdict.FAULT, "; ".join(fights)), values)
    if gap:
        return Step(t, Judgement(Verdict.GAP), values)
    if off and len(fights) == 0 and all(state[h.id] is False or state[c.id] is False for h, c in pairs):
        return Step(t, Judgement(Verdict.OFF), values)
    return Step(t, Judgement(Verdict.CLEAR), values)


def zone_setpoint_episodes(
    equipment: Sequence[Equipment],
    trends: Trends,
    grid: Iterable[datetime],
    step: timedelta,
    settings: RuleSettings,
) -> list[ZoneSetpointEpisode]:
    instants = list(grid)
    found: list[ZoneSetpointEpisode] = []
    for zone in sorted({eq.zone for eq in equipment if eq.zone is not None}):
        members = [eq for eq in equipment if eq.zone == zone]
        pairs = [
            (a, b)
            for a in members
            for b in members
            if a.id != b.id and a.has(HEATING_SETPOINT) and b.has(COOLING_SETPOINT)
        ]
        if not pairs:
            continue
        involved = tuple(eq for eq in members if any(eq in pair for pair in pairs))
        steps = [_judge(pairs, trends, t, settings.min_deadband_k) for t in instants]
        for episode in episodes(steps, step, settings.persistence):
            found.append(ZoneSetpointEpisode(zone, involved, episode))
    return found
