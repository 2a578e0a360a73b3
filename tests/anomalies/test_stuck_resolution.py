"""A coarse register behind a CT (one step = 6 kWh) at standby is no stuck meter; the same register stuck is.

House H's breaker meter el-02 becomes a chiller-like load on a Carlo Gavazzi EM24 (energy in 0.1 kWh
steps of the CT secondary) behind a 300/5 A CT the meter is not told about (multiplier 60): its stored
values move in steps of 6 kWh. It draws 30 kW on working days 07-19 and a 0.3 kW standby otherwise;
the sibling el-04 has never been read, so the parent's unmetered rest cannot be formed and the rule
must judge from the parent meter alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.resolution import register_step, register_steps
from metering.anomalies.stuck import stuck
from metering.readings import Interval
from point_mapping.loader import LoadedSite
from tests.anomalies.sites import METERS, ZONE, between, local, series, workday, write_house

HISTORY, START, END = local(date(2025, 2, 10)), local(date(2025, 3, 10)), local(date(2025, 3, 17))
WEDNESDAY = date(2025, 3, 12)
STEP = 6.0  # kWh: 0.1 kWh register x CT 60

COARSE = METERS.replace("{id: d-02, profile: eastron-sdm630,", "{id: d-02, profile: carlo-gavazzi-em24,").replace(
    "{id: el-02, device: d-02, resource: electricity, space: H1-02, submeter_of: H.main}",
    "{id: el-02, device: d-02, resource: electricity, space: H1-02, submeter_of: H.main, multiplier: 60}",
)


def coarse_site(tmp_path: Path) -> LoadedSite:
    return write_house(tmp_path, meters=COARSE)


def chiller(at: datetime) -> float:
    """kWh a quarter hour: 30 kW on working days 07-19, 0.3 kW standby otherwise."""
    return (30.0 if workday(at) and between(at, 7, 19) else 0.3) * 0.25


def inputs(
    site: LoadedSite,
    *,
    standby: Callable[[datetime], bool] = lambda at: False,
    stuck_at: Callable[[datetime], bool] = lambda at: False,
    others_kw: float = 4.0,
) -> AnomalyInputs:
    """el.H1-02's true load is `chiller`, at standby where `standby` says; its register reads in 6 kWh steps
    and does not move where `stuck_at` says. The main meter counts every true load."""

    def true(at: datetime) -> float:
        return 0.3 * 0.25 if standby(at) else chiller(at)

    def others(at: datetime) -> float:
        return others_kw * 0.25  # the other offices and the server room together

    seen = series("el.H1-02", HISTORY, END, true)
    register, shown = 0.0, []
    for interval in seen:
        before = math.floor(register / STEP) * STEP
        if not stuck_at(_local(interval.start)):
            register += interval.value
        shown.append(Interval("el.H1-02", interval.start, math.floor(register / STEP) * STEP - before))
    intervals: dict[str, list[Interval]] = {"el.H1-02": shown}
    for point_id in ("el.H1-01", "el.H1-03", "el.H1-srv"):
        intervals[point_id] = series(point_id, HISTORY, END, lambda at: others(at) / 3)
    intervals["el.H-main"] = series("el.H-main", HISTORY, END, lambda at: true(at) + others(at))
    return AnomalyInputs(site.model, intervals, START, END, steps=register_steps(site.model, site.profiles))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


def span(first: datetime, last: datetime) -> Callable[[datetime], bool]:
    return lambda at: first <= at < last


def at(day: date, hour: int) -> datetime:
    return _local(local(day, time(hour)))


def test_the_register_step_is_the_profile_scale_times_the_ct_ratio(tmp_path: Path) -> None:
    site = coarse_site(tmp_path)
    model = site.model
    assert register_step(model, model.point_by_id["el.H1-02"], site.profiles) == STEP
    # a float register (Eastron SDM630) has no fixed step; a 1-L pulse input on an m3 point steps by 0.001 m3
    assert register_step(model, model.point_by_id["el.H1-01"], site.profiles) is None
    assert register_step(model, model.point_by_id["cw.H1-wc"], site.profiles) == 0.001


def test_standby_behind_a_ct_below_the_register_step_is_not_stuck(tmp_path: Path) -> None:
    site = coarse_site(tmp_path)
    # the whole Wednesday at standby: 0.3 kW x 24 h = 7.2 kWh, at most one 6 kWh step on the register
    day = span(at(WEDNESDAY, 0), at(WEDNESDAY + timedelta(days=1), 0))
    judged = inputs(site, standby=day)
    zeros = [i for i in judged.intervals["el.H1-02"] if day(_local(i.start)) and i.value == 0]
    assert len(zeros) >= 95  # it reads zero (nearly) all day, in hours it usually draws 30 kW
    assert stuck(judged) == []


def test_the_same_register_stuck_while_the_load_goes_on_is_found(tmp_path: Path) -> None:
    site = coarse_site(tmp_path)
    # 10:00-16:00 on Wednesday the register does not move while 30 kW flow: 6 h x 30 kW = 180 kWh missed
    [found] = stuck(inputs(site, stuck_at=span(at(WEDNESDAY, 10), at(WEDNESDAY, 16))))
    d = found.details
    assert d["register_step"] == STEP and d["zero_hours"] >= 6.0
    assert d["parent_shows"] >= 180.0 - 2 * STEP


def test_a_parent_drawing_less_than_two_register_steps_cannot_show_a_stuck_child(tmp_path: Path) -> None:
    site = coarse_site(tmp_path)
    # the standby day again, and the other loads off: the parent draws 7.2 kWh that day, under 2 x 6 kWh
    day = span(at(WEDNESDAY, 0), at(WEDNESDAY + timedelta(days=1), 0))
    assert stuck(inputs(site, standby=day, others_kw=0.0)) == []
