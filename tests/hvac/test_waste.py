from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from metering.hvac.equipment import Equipment, MeterShare
from metering.hvac.evaluate import HvacInputs, evaluate
from metering.hvac.schedule import OccupancySchedule, ScheduleException, windows_schedule
from metering.hvac.waste import conflict_hours, priced, wasted
from metering.trends import TrendKind, TrendSample

H = timedelta(hours=1)
DAY0 = datetime(2024, 4, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_waste_is_the_excess_over_comparable_hours_priced_to_the_cent() -> None:
    # 10 kWh every hour for a week; on day 3 hours 08 and 09 draw 15 kWh and are in conflict
    hourly = {DAY0 + i * H: 10.0 for i in range(7 * 24)}
    conflict = {DAY0 + timedelta(days=3, hours=8), DAY0 + timedelta(days=3, hours=9)}
    for hour in conflict:
        hourly[hour] = 15.0
    hours = wasted(hourly, conflict, key=lambda h: h.hour)
    assert [(h.actual, h.baseline, h.excess) for h in hours] == [(15.0, 10.0, 5.0), (15.0, 10.0, 5.0)]
    assert priced(hours, lambda h: Decimal("0.142")) == Decimal("1.42")  # 10 kWh x 0.142 EUR
    assert priced(hours, lambda h: None) is None


def test_conflict_hours_cover_the_step_of_each_instant() -> None:
    t = DAY0 + timedelta(hours=8, minutes=45)
    assert conflict_hours([t], timedelta(minutes=30)) == {DAY0 + 8 * H, DAY0 + 9 * H}


def test_findings_carry_wasted_energy_and_cost() -> None:
    start = DAY0 + timedelta(days=3, hours=6)
    samples = {
        "hv": [TrendSample("hv", start + i * H, TrendKind.ANALOG, 40.0 if 2 <= i < 4 else 0.0) for i in range(8)],
        "cv": [TrendSample("cv", start + i * H, TrendKind.ANALOG, 30.0) for i in range(8)],
    }
    hourly = {DAY0 + i * H: 10.0 for i in range(7 * 24)}
    hourly[start + 2 * H] = hourly[start + 3 * H] = 16.0
    eq = Equipment("ahu-a", "ahu", "A", {"heating-valve": "hv", "cooling-valve": "cv"}, ("arcplan",),
                   (MeterShare("heat.A", "kWh"),))  # fmt: skip
    inputs = HvacInputs(
        [eq], samples, start, start + 7 * H, H, hourly={"heat.A": hourly}, price=lambda point, hour: Decimal("0.142")
    )
    [finding] = evaluate(inputs).conditions
    assert finding.waste is not None
    assert (finding.waste.energy, finding.waste.unit, finding.waste.cost) == (12.0, "kWh", Decimal("1.70"))
    assert finding.tenants == ("arcplan",)
    assert (finding.started_at, finding.ended_at) == (start + 2 * H, start + 4 * H)


def test_bms_exception_beats_the_weekly_day_and_priority_decides() -> None:
    weekly = tuple(((time(7), True), (time(19), False)) if d < 5 else () for d in range(7))
    holiday = ScheduleException((), dates=frozenset({datetime(2024, 10, 3).date()}), priority=5)
    event = ScheduleException(((time(9), True), (time(12), False)), dates=holiday.dates, priority=3)
    schedule = OccupancySchedule(weekly, BERLIN, (holiday, event))
    assert schedule.occupied(datetime(2024, 10, 2, 8, tzinfo=BERLIN))
    assert schedule.occupied(datetime(2024, 10, 3, 10, tzinfo=BERLIN))  # priority 3 wins over 5
    assert not schedule.occupied(datetime(2024, 10, 3, 8, tzinfo=BERLIN))
    yaml_fallback = windows_schedule([([0, 1, 2, 3, 4], time(7), time(19))], BERLIN, frozenset(holiday.dates))
    assert not yaml_fallback.occupied(datetime(2024, 10, 3, 10, tzinfo=BERLIN))
    assert yaml_fallback.occupied(datetime(2024, 10, 4, 10, tzinfo=BERLIN))
