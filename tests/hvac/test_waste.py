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
                   (MeterShare("heat.A", "kWh", resource="heat"),))  # fmt: skip
    inputs = HvacInputs(
        [eq], samples, start, start + 7 * H, H, hourly={"heat.A": hourly}, price=lambda point, hour: Decimal("0.142")
    )
    [finding] = evaluate(inputs).conditions
    assert finding.waste is not None
    assert (finding.waste.energy, finding.waste.unit, finding.waste.cost) == (12.0, "kWh", Decimal("1.70"))
    assert [(p.resource, p.energy, p.cost) for p in finding.waste.by_resource] == [("heat", 12.0, Decimal("1.70"))]
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


def test_waste_is_reported_per_resource_each_at_its_own_tariff() -> None:
    # AHU heats and cools 08:00-10:00 UTC; its heat meter (kWh), its half of the chiller's cooling meter
    # and its fan's electricity each draw more than on the comparable hours of the other days
    start = DAY0 + timedelta(days=3, hours=6)
    samples = {
        "hv": [TrendSample("hv", start + i * H, TrendKind.ANALOG, 40.0 if 2 <= i < 4 else 0.0) for i in range(8)],
        "cv": [TrendSample("cv", start + i * H, TrendKind.ANALOG, 30.0) for i in range(8)],
    }
    base = {DAY0 + i * H: 10.0 for i in range(7 * 24)}
    heat, cool, el = dict(base), dict(base), dict(base)
    for h in (start + 2 * H, start + 3 * H):
        heat[h], cool[h], el[h] = 16.0, 30.0, 11.0  # excess: heat 6, cooling 20 (half is ours: 10), el 1
    meters = (
        MeterShare("heat.A", "kWh", resource="heat"),
        MeterShare("cool.chiller", "kWh", 0.5, resource="cooling"),
        MeterShare("el.ahu", "kWh", resource="electricity"),
    )
    eq = Equipment("ahu-a", "ahu", "A", {"heating-valve": "hv", "cooling-valve": "cv"}, (), meters)
    tariff = {"heat.A": Decimal("0.142"), "cool.chiller": Decimal("0.085"), "el.ahu": Decimal("0.318")}
    inputs = HvacInputs(
        [eq], samples, start, start + 7 * H, H,
        hourly={"heat.A": heat, "cool.chiller": cool, "el.ahu": el},
        price=lambda point, hour: tariff[point],
    )  # fmt: skip
    conditions = evaluate(inputs).conditions
    # the meters also show heating and cooling together in zone A; that finding counts the heat and
    # cooling meters only, not the fan's electricity
    [zone] = [c for c in conditions if c.kind == "hvac.zone_meters_heating_cooling"]
    assert zone.waste is not None and [p.resource for p in zone.waste.by_resource] == ["cooling", "heat"]
    [finding] = [c for c in conditions if c.kind == "hvac.simultaneous_heating_cooling"]
    waste = finding.waste
    assert waste is not None
    assert [(p.resource, p.energy, p.unit, p.cost) for p in waste.by_resource] == [
        ("cooling", 20.0, "kWh", Decimal("1.70")),  # 2 h x 20 kWh x 0.5 share x 0.085 EUR
        ("electricity", 2.0, "kWh", Decimal("0.64")),  # 2 h x 1 kWh x 0.318 EUR = 0.636
        ("heat", 12.0, "kWh", Decimal("1.70")),  # 2 h x 6 kWh x 0.142 EUR = 1.704
    ]
    # kWh of heat, cooling and electricity are not one quantity: no single energy figure; money adds up
    assert (waste.energy, waste.unit) == (None, None)
    assert (waste.cost, waste.currency) == (Decimal("4.04"), "EUR")


def test_a_resource_without_tariff_stays_unpriced_and_adds_nothing_to_the_cost() -> None:
    start = DAY0 + timedelta(days=3, hours=6)
    samples = {
        "hv": [TrendSample("hv", start + i * H, TrendKind.ANALOG, 40.0 if 2 <= i < 4 else 0.0) for i in range(8)],
        "cv": [TrendSample("cv", start + i * H, TrendKind.ANALOG, 30.0) for i in range(8)],
    }
    heat = {DAY0 + i * H: 10.0 for i in range(7 * 24)}
    cool = dict(heat)
    heat[start + 2 * H] = cool[start + 2 * H] = 15.0
    meters = (MeterShare("heat.A", "MJ", resource="heat"), MeterShare("cool.A", "kWh", resource="cooling"))
    eq = Equipment("ahu-a", "ahu", "A", {"heating-valve": "hv", "cooling-valve": "cv"}, (), meters)
    inputs = HvacInputs(
        [eq], samples, start, start + 7 * H, H, hourly={"heat.A": heat, "cool.A": cool},
        price=lambda point, hour: Decimal("0.05") if point == "heat.A" else None,
    )  # fmt: skip
    [finding] = [c for c in evaluate(inputs).conditions if c.kind == "hvac.simultaneous_heating_cooling"]
    assert finding.waste is not None
    assert [(p.resource, p.energy, p.unit, p.cost) for p in finding.waste.by_resource] == [
        ("cooling", 5.0, "kWh", None),
        ("heat", 5.0, "MJ", Decimal("0.25")),
    ]
    assert finding.waste.cost == Decimal("0.25")


def test_demo_prices_heat_cooling_and_electricity_at_their_own_tariffs() -> None:
    from bms_bridge.commands.demo import DEMO_SITE
    from bms_bridge.hvac.prices import _per_point_unit, price_lookup
    from bms_bridge.sites import open_site

    price = price_lookup(open_site(DEMO_SITE).model)
    tuesday_10 = datetime(2025, 10, 7, 10, tzinfo=BERLIN)
    assert price("heat.A-main", tuesday_10) == Decimal("0.142")
    assert price("cool.chiller", tuesday_10) == Decimal("0.085")
    assert price("el.ahu-a", tuesday_10) == Decimal("0.318")  # peak zone, Mon-Fri 08-20
    assert price("el.ahu-a", tuesday_10.replace(hour=22)) == Decimal("0.226")
    # a heat meter in MJ priced by a tariff in kWh: 1 MJ = 1/3.6 kWh
    factor = _per_point_unit("MJ", "kWh")
    assert factor is not None and (Decimal("0.142") * factor).quantize(Decimal("0.00001")) == Decimal("0.03944")
    assert _per_point_unit("MWh", "kWh") == 1000 and _per_point_unit("m3", "kWh") is None
