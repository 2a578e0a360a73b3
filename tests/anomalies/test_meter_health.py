"""Meter health on synthetic series: a stuck breaker meter, communication gaps, main against sub-meters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from metering.anomalies.balance import balance
from metering.anomalies.gaps import gaps
from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.stuck import stuck
from metering.readings import Interval, Quality
from point_mapping.loader import LoadedSite
from tests.anomalies.sites import OFFICES, between, local, series, workday, write_house

HISTORY, START, END = local(date(2025, 2, 10)), local(date(2025, 3, 10)), local(date(2025, 3, 17))
WEDNESDAY = date(2025, 3, 12)
Rate = Callable[[datetime], float]


def office(area: float) -> Rate:
    """12 W/m² on weekdays 07-19, 3 W/m² otherwise, as kWh a quarter hour."""
    return lambda at: area * (12.0 if workday(at) and between(at, 7, 19) else 3.0) * 0.25 / 1000


def electricity(
    site: LoadedSite,
    *,
    zero: Callable[[datetime], bool] = lambda at: False,
    missing: Callable[[datetime], bool] | None = None,
    estimated: Callable[[datetime], bool] = lambda at: False,
    main_factor: float = 1.0,
    end: datetime = END,
    switched_off: bool = False,
) -> AnomalyInputs:
    """el.H1-02 reads zero where `zero` says: stuck (its load still flows through the main meter), or
    `switched_off` (the load is gone, from the main meter too)."""
    true = {f"el.{space}": office(area) for space, area in OFFICES.items()}
    if switched_off:
        true["el.H1-02"] = lambda at, r=true["el.H1-02"]: 0.0 if zero(at) else r(at)  # type: ignore[misc]
    true["el.H1-srv"] = lambda at: 18.0 * 0.25
    intervals: dict[str, list[Interval]] = {}
    for point_id, rate in true.items():
        reads = (lambda at, r=rate: 0.0 if zero(at) else r(at)) if point_id == "el.H1-02" else rate
        intervals[point_id] = series(
            point_id,
            HISTORY,
            end,
            reads,
            missing=missing if point_id == "el.H1-04" else None,
            quality=lambda at: Quality.ESTIMATED if estimated(at) else Quality.MEASURED,
        )
    total: Rate = lambda at: main_factor * sum(r(at) for r in true.values())  # noqa: E731
    intervals["el.H-main"] = series("el.H-main", HISTORY, end, total)
    return AnomalyInputs(site.model, intervals, START, END)


def span(first: datetime, last: datetime) -> Callable[[datetime], bool]:
    return lambda at: first <= at < last


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local(day, time(hour, minute))


def test_a_stuck_breaker_meter_is_found_with_what_it_missed(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    found = stuck(electricity(site, zero=span(at(WEDNESDAY, 10), at(WEDNESDAY + timedelta(days=1), 10))))
    assert [c.key for c in found] == ["anomaly.stuck_meter:el.H1-02:2025-03-12T09:00:00+00:00"]
    c = found[0]
    assert c.started_at == at(WEDNESDAY, 10) and c.ended_at == at(date(2025, 3, 13), 10)
    assert c.details["parent"] == "el.H-main" and c.details["zero_hours"] == 24.0
    # 12 h at 4.8 kW (working hours) and 12 h at 1.2 kW of the 400 m² office: 57.6 + 14.4 kWh
    assert c.details["estimated_missing"] == 72.0
    assert c.tenants == ("t2",) and c.equipment == "el-02"


def test_a_load_switched_off_is_not_a_stuck_meter(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    # the same 24 zero hours, but the main meter drops with them: the unmetered rest does not rise
    off = span(at(WEDNESDAY, 10), at(WEDNESDAY + timedelta(days=1), 10))
    assert stuck(electricity(site, zero=off, switched_off=True)) == []
    [found] = stuck(electricity(site, zero=off))
    assert found.details["unmetered_rise"] == 72.0  # what the stuck register missed appears in the rest


def test_stuck_after_boundary(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    # 4 h is the default: 16 quarter hours of zero in hours it always draws are reported, 15 are not
    sixteen = stuck(electricity(site, zero=span(at(WEDNESDAY, 10), at(WEDNESDAY, 14))))
    fifteen = stuck(electricity(site, zero=span(at(WEDNESDAY, 10), at(WEDNESDAY, 13, 45))))
    assert [c.details["zero_hours"] for c in sixteen] == [4.0] and fifteen == []


def test_zero_in_hours_a_point_often_draws_nothing_is_not_stuck(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    # the restrooms draw nothing every night and weekend; its main meter draws the kitchen's water
    wc = series("cw.H1-wc", HISTORY, END, lambda at: 0.1 if workday(at) and between(at, 8, 18) else 0.0)
    kit = series("cw.H1-kit", HISTORY, END, lambda at: 0.02)
    main = [Interval("cw.H-main", a.start, a.value + b.value) for a, b in zip(wc, kit, strict=True)]
    inputs = AnomalyInputs(site.model, {"cw.H1-wc": wc, "cw.H1-kit": kit, "cw.H-main": main}, START, END)
    assert stuck(inputs) == []


def test_a_stuck_meter_still_stuck_stays_open(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    found = stuck(electricity(site, zero=lambda t: t >= local(WEDNESDAY)))
    assert [(c.started_at, c.ended_at) for c in found] == [(local(WEDNESDAY), None)]


def test_communication_gaps(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    hour = gaps(electricity(site, missing=span(at(WEDNESDAY, 10), at(WEDNESDAY, 11))))
    assert [(c.subject, c.started_at, c.ended_at, c.details["hours"]) for c in hour] == [
        ("el.H1-04", at(WEDNESDAY, 10), at(WEDNESDAY, 11), 1.0)
    ]
    assert gaps(electricity(site, missing=span(at(WEDNESDAY, 10), at(WEDNESDAY, 10, 45)))) == []
    # values spread across a gap (estimated) are a gap too, on every point they cover
    spread = gaps(electricity(site, estimated=span(at(WEDNESDAY, 2), at(WEDNESDAY, 4))))
    assert sorted(c.subject for c in spread) == ["el.H1-01", "el.H1-02", "el.H1-03", "el.H1-04", "el.H1-srv"]
    # data that stopped coming: a gap still open at the end of the period
    silent = gaps(electricity(site, missing=lambda at: at >= local(date(2025, 3, 16), time(12))))
    assert [(c.subject, c.ended_at, c.details["hours"]) for c in silent] == [("el.H1-04", None, 12.0)]


def test_sub_meters_above_main_beyond_the_tolerance(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    # the main meter reads 10 % low: its sub-meters exceed it by 11 % every day of the week
    low = balance(electricity(site, main_factor=0.9))
    assert [(c.subject, c.details["days"], c.details["problem"]) for c in low] == [
        ("el.H-main", 7, "sub-meters exceed main")
    ]
    assert low[0].started_at == START and low[0].ended_at is None
    assert balance(electricity(site, main_factor=0.96)) == []  # 4.2 %: inside the 5 % tolerance
    assert balance(electricity(site)) == []


def test_unmetered_share_limit_from_yaml(tmp_path: Path) -> None:
    site = write_house(tmp_path, anomalies="anomalies:\n  meter_health: {max_unmetered_pct: {el.H-main: 20}}\n")
    found = balance(electricity(site, main_factor=1.5))  # a third of the main meter is not sub-metered
    assert [(c.details["problem"], c.details["unmetered_pct"]) for c in found] == [("unmetered too large", 33.33)]
    assert balance(electricity(site, main_factor=1.2)) == []  # 16.7 %


def test_an_lpwan_meter_is_judged_on_missing_quarter_hours_beyond_two_uplinks(tmp_path: Path) -> None:
    site = write_house(tmp_path)

    def yard(missing: Callable[[datetime], bool]) -> AnomalyInputs:
        # hourly uplinks: every quarter hour between them is spread, which is no gap
        spread = series("cw.H-yard", HISTORY, END, lambda at: 0.001, quality=lambda at: Quality.ESTIMATED)
        return AnomalyInputs(site.model, {"cw.H-yard": [i for i in spread if not missing(i.start)]}, START, END)

    assert gaps(yard(lambda t: False)) == []
    assert gaps(yard(span(at(WEDNESDAY, 10), at(WEDNESDAY, 11, 45)))) == []  # 1 h 45 min: two uplinks not yet
    found = gaps(yard(span(at(WEDNESDAY, 10), at(WEDNESDAY, 12))))
    assert [(c.subject, c.details["hours"]) for c in found] == [("cw.H-yard", 2.0)]
