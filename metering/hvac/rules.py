"""The conflict rules, one instant at a time: FAULT, CLEAR, or SUSPENDED when it cannot be judged.

Each rule names the points it needs; equipment without them is skipped and reported as not covered,
never judged on a guess. A data gap (a needed value missing or too old) or the equipment being off
suspends the rule for that instant (APAR and Guideline 36 only judge a unit that runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from metering.hvac.equipment import (
    COOLING_SETPOINT,
    COOLING_VALVE,
    HEATING_SETPOINT,
    HEATING_VALVE,
    OA_DAMPER,
    Snapshot,
    running,
)
from metering.hvac.settings import RuleSettings


class Verdict(StrEnum):
    FAULT = "fault"
    CLEAR = "clear"
    GAP = "gap"  # suspended: a needed value is missing or stale
    OFF = "off"  # suspended: the equipment is not running

    @property
    def suspended(self) -> bool:
        return self in (Verdict.GAP, Verdict.OFF)


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    detail: str = ""  # e.g. "APAR 21" when a rule has variants


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    title: str
    needs: tuple[str, ...]  # roles
    judge: Callable[[Snapshot, RuleSettings], Judgement]
    needs_running: bool = True
    optional: bool = False  # applies only where the points exist (the economiser rules need a damper)


def _values(snap: Snapshot, roles: Sequence[str]) -> list[float] | None:
    found = [snap.get(r) for r in roles]
    return None if any(v is None for v in found) else [v for v in found if v is not None]


def _judge_with(
    roles: tuple[str, ...], needs_running: bool, test: Callable[[list[float], RuleSettings], Judgement]
) -> Callable[[Snapshot, RuleSettings], Judgement]:
    def judge(snap: Snapshot, settings: RuleSettings) -> Judgement:
        if needs_running:
            state = running(snap)
            if state is None:
                return Judgement(Verdict.GAP)
            if not state:
                return Judgement(Verdict.OFF)
        values = _values(snap, roles)
        if values is None:
            return Judgement(Verdict.GAP)
        return test(values, settings)

    return judge


def _simultaneous(values: list[float], s: RuleSettings) -> Judgement:
    heating, cooling = values[0], values[1]
    if heating > s.valve_open_pct and cooling > s.valve_open_pct:
        return Judgement(Verdict.FAULT, "APAR 22")
    return Judgement(Verdict.CLEAR)


def _simultaneous_with_damper(values: list[float], s: RuleSettings) -> Judgement:
    heating, cooling, damper = values
    e = s.valve_open_pct
    if heating > e and cooling > e:
        modulating = e < damper < 100 - e
        return Judgement(Verdict.FAULT, "APAR 21" if modulating else "APAR 22")
    return Judgement(Verdict.CLEAR)


def _heating_with_economiser(values: list[float], s: RuleSettings) -> Judgement:
    heating, damper = values
    # APAR 23: heating while the economiser brings in more outdoor air than the minimum
    if heating > s.valve_open_pct and damper > s.min_outdoor_air_pct + s.valve_open_pct:
        return Judgement(Verdict.FAULT, "APAR 23")
    return Judgement(Verdict.CLEAR)


def _cooling_damper_modulating(values: list[float], s: RuleSettings) -> Judgement:
    cooling, damper = values
    # APAR 24: mechanical cooling should use all the outdoor air it can: the damper fully open, not modulating
    e = s.valve_open_pct
    if cooling > e and s.min_outdoor_air_pct + e < damper < 100 - e:
        return Judgement(Verdict.FAULT, "APAR 24")
    return Judgement(Verdict.CLEAR)


def _setpoints(values: list[float], s: RuleSettings) -> Judgement:
    heating, cooling = values
    if cooling < heating:
        return Judgement(Verdict.FAULT, "crossed")
    if cooling - heating < s.min_deadband_k:
        return Judgement(Verdict.FAULT, "dead band too narrow")
    return Judgement(Verdict.CLEAR)


SIMULTANEOUS = "hvac.simultaneous_heating_cooling"
HEATING_ECONOMISER = "hvac.heating_with_economiser"
COOLING_DAMPER = "hvac.cooling_damper_modulating"
SETPOINTS = "hvac.setpoints_crossed"
ZONE_FIGHT = "hvac.zone_heating_cooling_fight"
ZONE_METERS = "hvac.zone_meters_heating_cooling"
ZONE_SETPOINTS = "hvac.zone_setpoints_crossed"
VENTILATION = "hvac.ventilation_unoccupied"
HUNTING = "hvac.hunting"


def unit_rules(roles_present: frozenset[str]) -> list[Rule]:
    """The single-equipment rules, the simultaneous rule with its damper variant when there is a damper.

    The caller checks each rule's `needs` against the equipment: a rule whose points are missing is
    reported as not covered.
    """
    rules: list[Rule] = []
    roles: tuple[str, ...]
    if {HEATING_VALVE, COOLING_VALVE, OA_DAMPER} <= roles_present:
        roles = (HEATING_VALVE, COOLING_VALVE, OA_DAMPER)
        rules.append(
            Rule(SIMULTANEOUS, "heats and cools at once", roles, _judge_with(roles, True, _simultaneous_with_damper))
        )
    else:
        roles = (HEATING_VALVE, COOLING_VALVE)
        rules.append(Rule(SIMULTANEOUS, "heats and cools at once", roles, _judge_with(roles, True, _simultaneous)))
    roles = (HEATING_VALVE, OA_DAMPER)
    rules.append(
        Rule(
            HEATING_ECONOMISER,
            "heats with the economiser open",
            roles,
            _judge_with(roles, True, _heating_with_economiser),
            optional=True,
        )
    )
    roles = (COOLING_VALVE, OA_DAMPER)
    rules.append(
        Rule(
            COOLING_DAMPER,
            "cools while the damper modulates",
            roles,
            _judge_with(roles, True, _cooling_damper_modulating),
            optional=True,
        )
    )
    roles = (HEATING_SETPOINT, COOLING_SETPOINT)
    rules.append(Rule(SETPOINTS, "heating and cooling setpoints overlap", roles, _judge_with(roles, True, _setpoints)))
    return rules
