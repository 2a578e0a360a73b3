"""Each recorded measure judged: baseline on the days before it, savings over the days after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bms_bridge.savings.inputs import (
    cumulative_points,
    daily_uses,
    day_drivers,
    days_between,
    outdoor_temperatures,
)
from metering.savings.baseline import Baseline, fit_baseline
from metering.savings.measured import Savings, measure_savings
from metering.savings.scope import measure_points
from metering.store import Store
from point_mapping.loader import LoadedSite
from point_mapping.model import EmissionFactor, Measure
from point_mapping.model.meters import Resource


@dataclass(frozen=True)
class MeasureResult:
    measure: Measure
    resource: Resource
    unit: str
    points: tuple[str, ...]
    baseline: Baseline
    savings: Savings
    daily: tuple[tuple[date, float, float], ...] = ()  # after the measure: (day, actual, baseline's prediction)

    def co2e_saved_kg(self, factors: Sequence[EmissionFactor]) -> float | None:
        """The saving day by day times the factor of the day's year; None when a year has no factor."""
        by_year = {f.year: f.kg_co2e_per_unit for f in factors if f.resource is self.resource}
        if not self.daily or any(day.year not in by_year for day, _, _ in self.daily):
            return None
        return sum((expected - actual) * by_year[day.year] for day, actual, expected in self.daily)

    def as_json(self, factors: Sequence[EmissionFactor] = ()) -> dict[str, Any]:
        fit = self.baseline.fit
        co2e = self.co2e_saved_kg(factors)
        s = self.savings
        return {
            "measure": self.measure.id,
            "date": self.measure.date.isoformat(),
            "description": self.measure.description,
            "resource": self.resource.value,
            "unit": self.unit,
            "points": list(self.points),
            "expected_saving_pct": self.measure.expected_saving_pct,
            "baseline": {
                "usable": self.baseline.usable,
                "reasons": list(self.baseline.reasons),
                "drivers": list(self.baseline.drivers),
                "coefficients": {k: round(v, 4) for k, v in self.baseline.coefficients.items()},
                "fit": None
                if fit is None
                else {
                    "first_day": fit.first_day.isoformat(),
                    "last_day": fit.last_day.isoformat(),
                    "days": fit.days,
                    "cv_rmse_pct": round(fit.cv_rmse_pct, 2),
                    "nmbe_pct": round(fit.nmbe_pct, 4),
                    "r_squared": round(fit.r_squared, 4),
                    "autocorrelation": round(fit.autocorrelation, 3),
                },
            },
            "savings": None
            if not s.reportable
            else {
                "first_day": s.first_day.isoformat() if s.first_day else None,
                "last_day": s.last_day.isoformat() if s.last_day else None,
                "days": s.days,
                "predicted": round(s.predicted, 3),
                "actual": round(s.actual, 3),
                "savings": round(s.savings, 3),
                "savings_pct": round(s.savings_pct, 2),
                "uncertainty": round(s.uncertainty, 3),
                "confidence_pct": round(self.baseline.settings.confidence * 100),
                "fractional_savings_uncertainty": None
                if s.fractional_uncertainty is None
                else round(s.fractional_uncertainty, 4),
                "fsu_guideline14_approximation": None if s.fsu_approximation is None else round(s.fsu_approximation, 4),
                "significant": s.significant,
                "co2e_saved_kg": None if co2e is None else round(co2e, 1),
            },
            "no_savings_because": list(s.reasons),
        }


async def judge_measure(
    site: LoadedSite,
    store: Store,
    measure: Measure,
    until: date,
    units: dict[str, str] | None = None,
    since: date | None = None,
) -> list[MeasureResult]:
    """One result per resource in the measure's scope, over the days from the measure (or `since`, if
    later: a yearly report counts its own year) to `until`, inclusive."""
    units = units if units is not None else cumulative_points(site)
    settings = site.model.savings
    first = measure.date - timedelta(days=settings.baseline_days)
    temperatures = await outdoor_temperatures(site, store, first, until)
    drivers = day_drivers(site, days_between(first, until), temperatures)
    results = []
    for resource, point_ids in measure_points(site.model, measure, units).items():
        uses = await daily_uses(site, store, point_ids, first, until)
        baseline = fit_baseline([u for u in uses if u.day < measure.date], drivers, settings)
        after = [u for u in uses if u.day >= max(measure.date, since or measure.date)]
        savings = measure_savings(baseline, after, drivers, settings.min_day_coverage)
        daily: tuple[tuple[date, float, float], ...] = ()
        if savings.reportable:
            judged = [u for u in after if u.coverage >= settings.min_day_coverage and u.day in drivers]
            predicted = baseline.predict([drivers[u.day] for u in judged])
            daily = tuple((u.day, u.value, p.expected) for u, p in zip(judged, predicted, strict=True))
        unit = units.get(point_ids[0], resource.billing_unit) if point_ids else resource.billing_unit
        results.append(MeasureResult(measure, resource, unit, tuple(point_ids), baseline, savings, daily))
    return results
