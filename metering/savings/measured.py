"""Savings of a measure: the baseline's prediction for the days after it minus what was used.

The uncertainty is the prediction interval of the sum at the baseline's confidence (statsmodels' OLS
covariance), widened by n/n' for autocorrelated residuals as Guideline 14 does:

    U = t · sqrt((n / n') · (m·σ² + sᵀ·Cov(b)·s))

Its fractional form U / savings is Guideline 14's fractional savings uncertainty; its closed-form
approximation 1.26 · t · CV · sqrt((n/n') · (1 + 2/n) / m) / F is reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from metering.savings.baseline import Baseline, DayDrivers
from metering.savings.daily import DailyUse

# fewer days after the measure than this say little about a year's saving
MIN_REPORTING_DAYS = 14


@dataclass(frozen=True, slots=True)
class Savings:
    """Measured savings over the reporting days, or why there is no figure (`reasons` not empty)."""

    reasons: tuple[str, ...]
    days: int = 0
    first_day: date | None = None
    last_day: date | None = None
    predicted: float = 0.0
    actual: float = 0.0
    uncertainty: float = 0.0  # ± at the baseline's confidence, same unit
    fsu_approximation: float | None = None  # Guideline 14's closed form, as a fraction of the savings

    @property
    def reportable(self) -> bool:
        return not self.reasons

    @property
    def savings(self) -> float:
        return self.predicted - self.actual

    @property
    def savings_pct(self) -> float:
        return self.savings / self.predicted * 100 if self.predicted else 0.0

    @property
    def fractional_uncertainty(self) -> float | None:
        return self.uncertainty / abs(self.savings) if self.savings else None

    @property
    def significant(self) -> bool:
        """The saving is larger than its uncertainty: it is not noise."""
        return self.reportable and abs(self.savings) > self.uncertainty


def measure_savings(
    baseline: Baseline, uses: Sequence[DailyUse], drivers: Mapping[date, DayDrivers], min_coverage: float
) -> Savings:
    if not baseline.usable or baseline.fit is None:
        return Savings(("no usable baseline: " + "; ".join(baseline.reasons),))
    days = [u for u in uses if u.coverage >= min_coverage and u.day in drivers]
    if len(days) < MIN_REPORTING_DAYS:
        return Savings((f"only {len(days)} measured days after the measure (at least {MIN_REPORTING_DAYS})",))
    rows = [drivers[u.day] for u in days]
    predicted = sum(p.expected for p in baseline.predict(rows))
    actual = sum(u.value for u in days)
    fit = baseline.fit
    inflation = baseline.inflation()
    t = baseline.t_value()
    uncertainty = t * math.sqrt(inflation * baseline.sum_variance(rows))
    fraction = (predicted - actual) / predicted if predicted else 0.0
    approximation = None
    if fraction:
        m, n = len(days), fit.days
        cv = fit.cv_rmse_pct / 100
        approximation = 1.26 * t * cv * math.sqrt(inflation * (1 + 2 / n) / m) / abs(fraction)
    return Savings((), len(days), days[0].day, days[-1].day, predicted, actual, uncertainty, approximation)
