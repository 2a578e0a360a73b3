"""A baseline fitted on synthetic days finds a saving of known size within its uncertainty."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from metering.savings.baseline import fit_baseline
from metering.savings.measured import measure_savings
from tests.savings.synthetic import SETTINGS, series

MEASURE = date(2025, 10, 1)  # 273 baseline days, 92 reporting days


def test_known_saving_is_found_within_its_uncertainty() -> None:
    uses, drivers = series(365, saving_from=MEASURE, saving=0.15)
    baseline = fit_baseline([u for u in uses if u.day < MEASURE], drivers, SETTINGS)
    assert baseline.usable, baseline.reasons
    assert baseline.fit is not None
    # the coefficients come back: 200 + 6·HDD + 120·working day, within a few percent
    assert baseline.coefficients["intercept"] == pytest.approx(200, rel=0.05)
    assert baseline.coefficients["heating_degree_days"] == pytest.approx(6, rel=0.1)
    assert baseline.coefficients["working_day"] == pytest.approx(120, rel=0.05)
    assert abs(baseline.coefficients["cooling_degree_days"]) < 6  # a few days above 18 degC, no cooling load
    assert baseline.fit.cv_rmse_pct < 5  # 3 % noise
    assert abs(baseline.fit.nmbe_pct) < 0.01  # OLS with an intercept has no bias on its own days

    after = [u for u in uses if u.day >= MEASURE]
    found = measure_savings(baseline, after, drivers, SETTINGS.min_day_coverage)
    assert found.reportable and found.days == 92
    truth = sum(u.value / 0.85 * 0.15 for u in after)  # what the 15 % took away
    assert abs(found.savings - truth) <= found.uncertainty
    assert found.savings_pct == pytest.approx(15, abs=1.5)
    assert found.significant
    assert 0 < found.uncertainty < 0.2 * found.savings
    assert found.fsu_approximation is not None and found.fsu_approximation == pytest.approx(
        found.fractional_uncertainty, rel=0.5
    )


def test_no_saving_is_not_significant() -> None:
    uses, drivers = series(365)
    baseline = fit_baseline([u for u in uses if u.day < MEASURE], drivers, SETTINGS)
    found = measure_savings(baseline, [u for u in uses if u.day >= MEASURE], drivers, SETTINGS.min_day_coverage)
    assert found.reportable
    assert abs(found.savings) <= found.uncertainty
    assert not found.significant


def test_noisy_baseline_says_so_instead_of_a_number() -> None:
    uses, drivers = series(365, saving_from=MEASURE, saving=0.15, noise=0.6)
    baseline = fit_baseline([u for u in uses if u.day < MEASURE], drivers, SETTINGS)
    assert not baseline.usable
    assert baseline.fit is not None and baseline.fit.cv_rmse_pct > 30
    assert baseline.reasons[0].startswith("CV(RMSE)") and "above 30 %" in baseline.reasons[0]
    found = measure_savings(baseline, [u for u in uses if u.day >= MEASURE], drivers, SETTINGS.min_day_coverage)
    assert not found.reportable and found.reasons[0].startswith("no usable baseline: CV(RMSE)")


def test_too_few_days_say_so() -> None:
    uses, drivers = series(80)
    baseline = fit_baseline(uses[:59], drivers, SETTINGS)
    assert not baseline.usable and baseline.fit is None
    assert baseline.reasons == ("only 59 days with measured data and an outdoor temperature (at least 60)",)


def test_days_with_gaps_are_left_out_of_the_fit() -> None:
    uses, drivers = series(120)
    # 30 days mostly estimated (a dead meter spread over), with a wild value: they must not count
    damaged = [replace(u, measured=40, value=u.value * 5) if 30 <= i < 60 else u for i, u in enumerate(uses)]
    baseline = fit_baseline(damaged, drivers, SETTINGS)
    assert baseline.usable and baseline.fit is not None
    assert baseline.fit.days == 90
    assert baseline.fit.cv_rmse_pct < 5


def test_days_without_temperature_are_left_out() -> None:
    uses, drivers = series(120)
    some = {d: row for d, row in drivers.items() if d.day != 1}  # the 1st of each month has no temperature
    baseline = fit_baseline(uses, some, SETTINGS)
    assert baseline.fit is not None and baseline.fit.days == 116


def test_the_uncertainty_covers_the_truth_about_as_often_as_it_says() -> None:
    """At 90 % confidence about 1 in 10 reporting periods misses: over 60 noise draws, 6 expected."""
    misses = 0
    for seed in range(60):
        uses, drivers = series(365, saving_from=MEASURE, saving=0.10, seed=seed)
        baseline = fit_baseline([u for u in uses if u.day < MEASURE], drivers, SETTINGS)
        after = [u for u in uses if u.day >= MEASURE]
        found = measure_savings(baseline, after, drivers, SETTINGS.min_day_coverage)
        truth = sum(u.value / 0.9 * 0.1 for u in after)
        misses += abs(found.savings - truth) > found.uncertainty
    assert 1 <= misses <= 12  # binomial(60, 0.1): outside this 1 time in 200
