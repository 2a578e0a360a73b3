"""What the savings core is given, read from the store: daily use of points and outdoor temperatures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from bms_bridge.hvac.inputs import public_holidays
from metering.readings import Interval
from metering.savings.baseline import DayDrivers, drivers_of
from metering.savings.daily import DailyUse, daily_mean_temperature, daily_use, read_weather_csv
from metering.store import Store
from point_mapping.loader import LoadedSite
from point_mapping.registers import point_measure


class SavingsInputError(ValueError):
    """A savings input the site names cannot be read (weather CSV); one sentence for the CLI."""


def cumulative_points(site: LoadedSite) -> dict[str, str]:
    """Points whose intervals are consumption (energy and volume totals), with the unit they are stored in."""
    found: dict[str, str] = {}
    for point in site.model.points:
        measure = point_measure(site.model, point, site.profiles)
        if measure is not None and measure.cumulative:
            found[point.id] = point.unit or measure.unit
    return found


def local_start(site: LoadedSite, day: date) -> datetime:
    return datetime.combine(day, time(0), site.model.site.zone)


async def read_series(store: Store, point_ids: Sequence[str], start: datetime, end: datetime) -> list[list[Interval]]:
    return [await store.intervals(p, start, end) for p in point_ids]


async def daily_uses(
    site: LoadedSite, store: Store, point_ids: Sequence[str], first: date, last: date
) -> list[DailyUse]:
    """Daily sums of the points over the local days first..last, inclusive."""
    series = await read_series(store, point_ids, local_start(site, first), local_start(site, last + timedelta(days=1)))
    return daily_use(series, site.model.site.zone)


async def outdoor_temperatures(site: LoadedSite, store: Store, first: date, last: date) -> dict[date, float] | None:
    """Daily mean outdoor temperature from the site's source; None when the site names none."""
    source = site.model.savings.outdoor_temperature
    if source is None:
        return None
    if source.csv is not None:
        path = site.folder / source.csv
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SavingsInputError(f"cannot read the weather CSV {path}: {error.strerror}") from None
        try:
            return {d: t for d, t in read_weather_csv(text).items() if first <= d <= last}
        except ValueError as error:
            raise SavingsInputError(f"{path}: {error}") from None
    assert source.bms_point is not None
    samples = await store.trends(
        source.bms_point, local_start(site, first), local_start(site, last + timedelta(days=1))
    )
    return daily_mean_temperature(samples, site.model.site.zone)


def day_drivers(
    site: LoadedSite, days: Sequence[date], temperatures: dict[date, float] | None
) -> dict[date, DayDrivers]:
    years = [d.year for d in days] or [2000]
    holidays = public_holidays(site.model, min(years), max(years))
    return drivers_of(days, temperatures, holidays, site.model.savings)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
