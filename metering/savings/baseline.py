"""The baseline: daily use = b0 + b1·HDD + b2·CDD + b3·working day, fitted by ordinary least squares.

statsmodels does the regression and its prediction intervals; this module chooses the days, the
regressors a period can support, and judges the fit by ASHRAE Guideline 14's figures:

    CV(RMSE) = sqrt(Σ(y − ŷ)² / (n − p)) / ȳ        NMBE = Σ(y − ŷ) / ((n − p) · ȳ)

with n days and p parameters. A baseline that misses a limit, or has too few days, is returned with its
reasons and no model: nothing is predicted from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy import stats

from metering.savings.daily import DailyUse, degree_days, working_day
from point_mapping.model.savings import SavingsSettings

DRIVERS = ("heating_degree_days", "cooling_degree_days", "working_day")


@dataclass(frozen=True, slots=True)
class DayDrivers:
    """What the baseline explains a day's use by."""

    day: date
    heating_degree_days: float
    cooling_degree_days: float
    working_day: float  # 1.0 or 0.0

    def row(self, names: Sequence[str]) -> list[float]:
        return [1.0, *(float(getattr(self, name)) for name in names)]


def drivers_of(
    days: Sequence[date],
    temperatures: Mapping[date, float] | None,
    holidays: frozenset[date],
    settings: SavingsSettings,
) -> dict[date, DayDrivers]:
    """Drivers per day; without a temperature source every day has zero degree days, with one a day
    without a temperature has no drivers (it can be neither fitted nor predicted)."""
    found: dict[date, DayDrivers] = {}
    for day in days:
        if temperatures is None:
            hdd = cdd = 0.0
        elif day in temperatures:
            hdd, cdd = degree_days(temperatures[day], settings.heating_base_c, settings.cooling_base_c)
        else:
            continue
        found[day] = DayDrivers(day, hdd, cdd, 1.0 if working_day(day, holidays) else 0.0)
    return found


@dataclass(frozen=True, slots=True)
class Fit:
    """How well the baseline explains the days it was fitted on (Guideline 14 figures, in percent)."""

    days: int
    parameters: int
    mean: float
    cv_rmse_pct: float
    nmbe_pct: float
    r_squared: float
    autocorrelation: float  # lag-1 of the residuals over consecutive days
    first_day: date
    last_day: date

    @property
    def effective_days(self) -> float:
        """n' = n (1 − ρ) / (1 + ρ): autocorrelated residuals carry less information than n days."""
        rho = max(0.0, self.autocorrelation)
        return self.days * (1 - rho) / (1 + rho)


@dataclass(frozen=True, slots=True)
class DayPrediction:
    day: date
    expected: float
    low: float  # prediction interval at the baseline's confidence
    high: float


@dataclass(frozen=True)
class Baseline:
    """A fitted baseline, or the reasons there is none (`usable` is False, `model` is None)."""

    settings: SavingsSettings
    reasons: tuple[str, ...]
    fit: Fit | None = None
    drivers: tuple[str, ...] = ()
    coefficients: Mapping[str, float] = field(default_factory=dict)
    model: Any = None  # statsmodels RegressionResults

    @property
    def usable(self) -> bool:
        return self.model is not None and not self.reasons

    def predict(self, days: Sequence[DayDrivers], confidence: float | None = None) -> list[DayPrediction]:
        """Expected use per day with its prediction interval (at `confidence`, default the settings')."""
        if self.model is None:
            raise ValueError("this baseline has no model: " + "; ".join(self.reasons))
        if not days:
            return []
        x = np.array([d.row(self.drivers) for d in days])
        frame = self.model.get_prediction(x).summary_frame(alpha=1 - (confidence or self.settings.confidence))
        return [
            DayPrediction(d.day, float(mean), float(low), float(high))
            for d, mean, low, high in zip(
                days, frame["mean"], frame["obs_ci_lower"], frame["obs_ci_upper"], strict=True
            )
        ]

    def sum_variance(self, days: Sequence[DayDrivers]) -> float:
        """Variance of the error of Σ predicted − Σ actual over `days` (independent day errors):
        m·σ² for the days' own scatter plus sᵀ·Cov(b)·s, s = Σ of the days' regressor rows."""
        if self.model is None:
            raise ValueError("this baseline has no model")
        s = np.sum(np.array([d.row(self.drivers) for d in days]), axis=0)
        cov = np.asarray(self.model.cov_params())
        return float(len(days) * float(self.model.scale) + s @ cov @ s)

    def inflation(self) -> float:
        """n / n': how much autocorrelated residuals widen an interval's variance (1 when there are none)."""
        if self.fit is None or self.fit.effective_days <= 0:
            return 1.0
        return self.fit.days / self.fit.effective_days

    def t_value(self) -> float:
        """Student's t at the settings' confidence (two-sided) for the fit's residual degrees of freedom."""
        assert self.model is not None
        return float(stats.t.ppf(0.5 + self.settings.confidence / 2, float(self.model.df_resid)))


def fit_baseline(uses: Sequence[DailyUse], drivers: Mapping[date, DayDrivers], settings: SavingsSettings) -> Baseline:
    """Fit on the days with enough measured data and known drivers; judge by the settings' limits."""
    days = [u for u in uses if u.coverage >= settings.min_day_coverage and u.day in drivers]
    if len(days) < settings.min_baseline_days:
        least = settings.min_baseline_days
        reason = f"only {len(days)} days with measured data and an outdoor temperature (at least {least})"
        return Baseline(settings, (reason,))
    rows = [drivers[u.day] for u in days]
    # a regressor the period cannot tell apart from the constant is left out (no cooling days in winter)
    names = tuple(n for n in DRIVERS if len({getattr(r, n) for r in rows}) > 1)
    y = np.array([u.value for u in days])
    x = np.array([r.row(names) for r in rows])
    model = sm.OLS(y, x).fit()
    residuals = y - np.asarray(model.fittedvalues)
    n, p = len(days), len(names) + 1
    mean = float(np.mean(y))
    reasons: list[str] = []
    if mean <= 0:
        return Baseline(settings, ("the baseline period used nothing",))
    cv = math.sqrt(float(np.sum(residuals**2)) / (n - p)) / mean * 100
    nmbe = float(np.sum(residuals)) / ((n - p) * mean) * 100
    fit = Fit(
        days=n,
        parameters=p,
        mean=mean,
        cv_rmse_pct=cv,
        nmbe_pct=nmbe,
        r_squared=float(model.rsquared),
        autocorrelation=_lag1(days, residuals),
        first_day=days[0].day,
        last_day=days[-1].day,
    )
    if cv > settings.max_cv_rmse_pct:
        reasons.append(f"CV(RMSE) {cv:.1f} % is above {settings.max_cv_rmse_pct:g} %")
    if abs(nmbe) > settings.max_abs_nmbe_pct:
        reasons.append(f"NMBE {nmbe:+.2f} % is beyond ±{settings.max_abs_nmbe_pct:g} %")
    coefficients = dict(zip(("intercept", *names), (float(b) for b in model.params), strict=True))
    return Baseline(settings, tuple(reasons), fit, names, coefficients, model)


def _lag1(days: Sequence[DailyUse], residuals: Any) -> float:
    """Lag-1 autocorrelation of the residuals, over pairs of consecutive calendar days only."""
    pairs = [
        (float(residuals[i - 1]), float(residuals[i]))
        for i in range(1, len(days))
        if (days[i].day - days[i - 1].day).days == 1
    ]
    if len(pairs) < 2:
        return 0.0
    variance = float(np.sum(residuals**2)) / len(residuals)
    if variance == 0:
        return 0.0
    return sum(a * b for a, b in pairs) / len(pairs) / variance
