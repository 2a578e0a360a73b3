"""This month's forecast per building and tenant, priced at the tariff, and its deviation events.

The baseline is fitted on the `forecast_baseline_days` before the month (from the latest measure in
scope, if later: a baseline straddling a retrofit forecasts the old building). Days to come get the
outdoor temperature of the same day a year before, else the mean of the last seven known days.
Money: the measured days are priced interval by interval as billing prices them; the rest at the
average price the last 28 days' load profile met (time-of-use zones included).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from billing_export.money import quantity, round_money
from bms_bridge.savings.inputs import (
    cumulative_points,
    day_drivers,
    days_between,
    local_start,
    outdoor_temperatures,
    read_series,
)
from bms_bridge.savings.prices import subject_price, tenant_tariffs
from metering.events import Event
from metering.readings import Interval
from metering.savings.baseline import fit_baseline
from metering.savings.daily import daily_use
from metering.savings.forecast import MonthForecast, deviations, month_days, month_forecast
from metering.savings.scope import building_points, measure_points, tenant_points
from metering.store import Store
from point_mapping.formula import parse_formula
from point_mapping.loader import LoadedSite
from point_mapping.model.meters import Resource

log = logging.getLogger(__name__)

PRICE_PROFILE_DAYS = 28


@dataclass(frozen=True)
class ForecastResult:
    forecast: MonthForecast | None
    subject: str
    resource: Resource
    unit: str
    points: tuple[str, ...]
    reasons: tuple[str, ...]
    measured_cost: Decimal | None
    forecast_cost: Decimal | None
    currency: str

    def as_json(self) -> dict[str, Any]:
        f = self.forecast
        return {
            "subject": self.subject,
            "resource": self.resource.value,
            "unit": self.unit,
            "points": list(self.points),
            "no_forecast_because": list(self.reasons),
            "month": f.first_day.strftime("%Y-%m") if f else None,
            "measured": None if f is None else round(f.measured, 3),
            "measured_days": None if f is None else f.measured_days,
            "rest": None if f is None else round(f.rest, 3),
            "total": None if f is None else round(f.total, 3),
            "uncertainty": None if f is None else round(f.uncertainty, 3),
            "measured_cost": None if self.measured_cost is None else str(self.measured_cost),
            "forecast_cost": None if self.forecast_cost is None else str(self.forecast_cost),
            "currency": self.currency,
        }


def _subjects(site: LoadedSite, today: date, units: dict[str, str]) -> list[tuple[str, Resource, list[str]]]:
    found = []
    for building in site.model.buildings:
        for resource, ids in building_points(site.model, building.id, units).items():
            found.append((f"building:{building.id}", resource, ids))
    for tenant in site.model.tenants:
        for resource, ids in tenant_points(site.model, tenant.id, today, units).items():
            found.append((f"tenant:{tenant.id}", resource, ids))
    return found


def _guess_temperatures(known: dict[date, float], days: Sequence[date], today: date) -> dict[date, float]:
    """Days to come: the same day a year before, else the mean of the last seven known days."""
    recent = [known[d] for d in sorted(known) if d < today][-7:]
    guessed = dict(known)
    for day in days:
        if day in guessed:
            continue
        try:
            year_before = day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            year_before = day - timedelta(days=365)
        if year_before in known:
            guessed[day] = known[year_before]
        elif recent:
            guessed[day] = sum(recent) / len(recent)
    return guessed


def _cost(series: Sequence[Sequence[Interval]], price: Any, first: datetime, end: datetime) -> tuple[Decimal, float]:
    """(money, quantity) of the intervals in [first, end); LookupError when a point has no price.

    Quantities are summed per price first (per tariff zone and version, as a statement line is) and
    each sum is priced once, so rounding 15-minute values does not add up."""
    per_price: dict[Decimal, float] = {}
    for intervals in series:
        for interval in intervals:
            if first <= interval.start < end:
                unit_price = price(interval.point_id, interval.start)
                if unit_price is None:
                    raise LookupError(interval.point_id)
                per_price[unit_price] = per_price.get(unit_price, 0.0) + interval.value
    money = sum((quantity(used) * unit_price for unit_price, used in per_price.items()), Decimal(0))
    return money, sum(per_price.values())


async def site_forecasts(site: LoadedSite, store: Store, today: date) -> tuple[list[ForecastResult], list[Event]]:
    model, settings = site.model, site.model.savings
    units = cumulative_points(site)
    days = month_days(today)
    first = days[0] - timedelta(days=settings.forecast_baseline_days)
    known = await outdoor_temperatures(site, store, first - timedelta(days=366), today - timedelta(days=1))
    temperatures = None if known is None else _guess_temperatures(known, days, today)
    drivers = day_drivers(site, days_between(first, days[-1]), temperatures)
    site_price = subject_price(model, {})
    results, events = [], []
    for subject, resource, ids in _subjects(site, today, units):
        start = max([first, *(m.date for m in model.measures if m.date < days[0] and _touches(site, m.id, ids, units))])
        series = await read_series(store, ids, local_start(site, start), local_start(site, today))
        uses = daily_use(series, model.site.zone)
        baseline = fit_baseline([u for u in uses if u.day < days[0]], drivers, settings)
        unit = units[ids[0]]
        forecast = month_forecast(subject, resource.value, unit, baseline, uses, drivers, today)
        reasons = baseline.reasons if not baseline.usable else (() if forecast else ("no outdoor temperature ahead",))
        month = [u for u in uses if u.day >= days[0]]
        events += deviations(subject, ids, unit, baseline, month, drivers, model.site.zone, settings.min_day_coverage)
        measured_cost = forecast_cost = None
        tenant = subject.removeprefix("tenant:") if subject.startswith("tenant:") else None
        price = subject_price(model, tenant_tariffs(model, tenant, today)) if tenant else site_price
        try:
            money, _ = _cost(series, price, local_start(site, days[0]), local_start(site, today))
            profile_money, profile_quantity = _cost(
                series, price, local_start(site, today - timedelta(days=PRICE_PROFILE_DAYS)), local_start(site, today)
            )
        except LookupError:
            pass  # no tariff for this resource: quantities only
        else:
            measured_cost = round_money(money, model.site.currency)
            if forecast is not None and profile_quantity > 0:
                average = profile_money / quantity(profile_quantity)
                forecast_cost = round_money(money + average * quantity(forecast.rest), model.site.currency)
        results.append(
            ForecastResult(
                forecast,
                subject,
                resource,
                unit,
                tuple(ids),
                reasons,
                measured_cost,
                forecast_cost,
                model.site.currency,
            )
        )
    return results, events


def _touches(site: LoadedSite, measure_id: str, ids: Sequence[str], units: dict[str, str]) -> bool:
    """The measure's points are among `ids`, or a virtual one is computed from them (common = main − ...)."""
    measure = next(m for m in site.model.measures if m.id == measure_id)
    for points in measure_points(site.model, measure, units).values():
        for point_id in points:
            formula = site.model.point_by_id[point_id].formula
            inputs = {t.point_id for t in parse_formula(formula).terms} if formula else set()
            if point_id in ids or inputs & set(ids):
                return True
    return False


async def record_forecasts(site: LoadedSite, store: Store, today: date) -> tuple[list[ForecastResult], list[Event]]:
    """Forecast this month and store each deviation as an event (a day already flagged keeps its one event)."""
    results, events = await site_forecasts(site, store, today)
    for event in events:
        await store.add_event(event)
    log.info("forecasts: %d subjects, %d days outside their interval", len(results), len(events))
    return results, events
