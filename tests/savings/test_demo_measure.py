"""The demo's LED retrofit is measurable: the simulation's own numbers, judged like the report judges them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays
import pytest

from bms_bridge.commands.demo import DEMO_SECRETS, DEMO_SITE
from bms_bridge.simulate.load_model import LoadModel, Scenario
from bms_bridge.sites import open_site
from metering.savings.baseline import drivers_of, fit_baseline
from metering.savings.daily import DailyUse, slots_in_day
from metering.savings.measured import measure_savings


def test_demo_retrofit_saving_is_found_and_matches_the_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    site = open_site(DEMO_SITE).model
    (measure,) = site.measures
    assert measure.points == ["el.B-common"]
    zone = site.site.zone
    with_led, without = LoadModel(site), LoadModel(site, Scenario(retrofits=()))
    first, last = measure.date - timedelta(days=120), measure.date + timedelta(days=60)
    days = [first + timedelta(days=i) for i in range((last - first).days)]

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    def use(model: LoadModel, day: date) -> float:
        return model.cumulative("el.B-common", midnight(day + timedelta(days=1))) - model.cumulative(
            "el.B-common", midnight(day)
        )

    temperatures = {
        d: sum(with_led.outdoor_temperature(midnight(d) + timedelta(minutes=15 * i)) for i in range(96)) / 96
        for d in days
    }
    calendar = frozenset(holidays.country_holidays("DE", years=[first.year, last.year]))
    drivers = drivers_of(days, temperatures, calendar, site.savings)
    uses = [
        DailyUse(d, use(with_led, d), slots_in_day(d, zone), slots_in_day(d, zone), slots_in_day(d, zone)) for d in days
    ]
    baseline = fit_baseline([u for u in uses if u.day < measure.date], drivers, site.savings)
    assert baseline.usable, baseline.reasons
    found = measure_savings(baseline, [u for u in uses if u.day >= measure.date], drivers, 0.9)
    truth = sum(use(without, d) - use(with_led, d) for d in days if d >= measure.date)
    assert found.significant
    assert abs(found.savings - truth) <= found.uncertainty
    assert 10 < found.savings_pct < 15  # 20 % of the lighting and lifts; AHU B shares the point
