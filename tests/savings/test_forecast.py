"""The rest of a month from the baseline, and a day far from its forecast flagged as an event."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from metering.savings.baseline import fit_baseline
from metering.savings.forecast import KIND, deviations, month_forecast
from tests.savings.synthetic import SETTINGS, series

TODAY = date(2025, 11, 20)


def test_month_forecast_adds_measured_days_and_predicted_ones() -> None:
    uses, drivers = series(365)
    baseline = fit_baseline([u for u in uses if u.day < date(2025, 11, 1)], drivers, SETTINGS)
    forecast = month_forecast("building:A", "electricity", "kWh", baseline, uses, drivers, TODAY)
    assert forecast is not None
    assert (forecast.first_day, forecast.last_day, forecast.measured_days) == (
        date(2025, 11, 1),
        date(2025, 11, 30),
        19,
    )
    assert forecast.measured == pytest.approx(sum(u.value for u in uses if date(2025, 11, 1) <= u.day < TODAY))
    assert [p.day for p in forecast.predicted] == [date(2025, 11, d) for d in range(20, 31)]
    truth = sum(u.value for u in uses if TODAY <= u.day <= date(2025, 11, 30))
    assert abs(forecast.rest - truth) <= forecast.uncertainty
    assert forecast.total == pytest.approx(forecast.measured + forecast.rest)


def test_no_forecast_without_drivers_for_the_days_to_come() -> None:
    uses, drivers = series(365)
    baseline = fit_baseline([u for u in uses if u.day < date(2025, 11, 1)], drivers, SETTINGS)
    del drivers[date(2025, 11, 25)]
    assert month_forecast("building:A", "electricity", "kWh", baseline, uses, drivers, TODAY) is None


def test_a_day_far_above_its_forecast_is_an_event() -> None:
    uses, drivers = series(365)
    baseline = fit_baseline([u for u in uses if u.day < date(2025, 11, 1)], drivers, SETTINGS)
    november = [u for u in uses if u.day >= date(2025, 11, 1)]
    assert deviations("tenant:T1", ["p"], "kWh", baseline, november, drivers, ZoneInfo("Europe/Berlin"), 0.9) == []
    spiked = [replace(u, value=u.value + 200) if u.day == date(2025, 11, 12) else u for u in november]
    (event,) = deviations("tenant:T1", ["p"], "kWh", baseline, spiked, drivers, ZoneInfo("Europe/Berlin"), 0.9)
    assert event.kind == KIND and event.severity == "warning"
    assert event.started_at.isoformat() == "2025-11-11T23:00:00+00:00"  # local midnight
    assert event.energy == pytest.approx(event.details["measured"] - event.details["expected"], abs=0.01)
    assert event.details["measured"] > event.details["high"]
    assert "above its forecast" in event.title
