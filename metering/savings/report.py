"""The owner's and investors' yearly figures: consumption, intensity, trend, CO2e and data quality.

Pure: the caller reads the intervals; this module sums them by local month, compares each month with
the same month a year before, divides by the building's area and multiplies by the emission factor the
integrator set for the resource and year (location-based; no factor set, no CO2e figure).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from metering.readings import Interval, Quality
from metering.savings.daily import slots_in_day
from point_mapping.model import EmissionFactor
from point_mapping.model.meters import Resource


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: int
    value: float
    previous: float | None  # the same month a year before; None: no data then
    slots: int  # quarter hours the month has (DST months: ±4)
    present: int  # quarter hours with an interval
    estimated: int  # of those, spread over a gap or questionable: not read from a meter
    # (this year, year before) over the days of the month complete in both: a month still running, or
    # one whose history starts on the 3rd, is compared day for day, not as a part against a whole
    like_for_like: tuple[float, float] | None = None
    like_for_like_days: int = 0

    @property
    def change_pct(self) -> float | None:
        if self.like_for_like is None or self.like_for_like[1] == 0:
            return None
        return (self.like_for_like[0] - self.like_for_like[1]) / self.like_for_like[1] * 100


@dataclass(frozen=True)
class ResourceFigures:
    """One resource of one building (or of the whole site: `building` is None) in one year."""

    building: str | None
    resource: Resource
    unit: str
    points: tuple[str, ...]
    area_m2: float
    months: tuple[MonthFigures, ...]
    factor: EmissionFactor | None

    @property
    def total(self) -> float:
        return sum(m.value for m in self.months)

    @property
    def previous_total(self) -> float | None:
        """Last year's use over the days complete in both years; None when there are none."""
        pairs = [m.like_for_like[1] for m in self.months if m.like_for_like is not None]
        return sum(pairs) if pairs else None

    @property
    def comparable_total(self) -> float:
        """This year's use over the same days as `previous_total`."""
        return sum(m.like_for_like[0] for m in self.months if m.like_for_like is not None)

    @property
    def change_pct(self) -> float | None:
        previous = self.previous_total
        if not previous:
            return None
        return (self.comparable_total - previous) / previous * 100

    @property
    def intensity(self) -> float:
        return self.total / self.area_m2 if self.area_m2 else 0.0

    @property
    def estimated_share_pct(self) -> float:
        present = sum(m.present for m in self.months)
        return sum(m.estimated for m in self.months) / present * 100 if present else 0.0

    @property
    def missing_share_pct(self) -> float:
        slots = sum(m.slots for m in self.months)
        return (slots - sum(m.present for m in self.months)) / slots * 100 if slots else 0.0

    @property
    def co2e_kg(self) -> float | None:
        return self.total * self.factor.kg_co2e_per_unit if self.factor is not None else None

    def as_json(self) -> dict[str, Any]:
        return {
            "building": self.building,
            "resource": self.resource.value,
            "unit": self.unit,
            "points": list(self.points),
            "area_m2": self.area_m2,
            "total": round(self.total, 3),
            "intensity_per_m2": round(self.intensity, 4),
            "intensity_unit": f"{self.unit}/m²",
            "comparable_days": sum(m.like_for_like_days for m in self.months),
            "comparable_total": round(self.comparable_total, 3),
            "previous_year_same_days": None if self.previous_total is None else round(self.previous_total, 3),
            "change_pct": None if self.change_pct is None else round(self.change_pct, 2),
            "estimated_share_pct": round(self.estimated_share_pct, 3),
            "missing_share_pct": round(self.missing_share_pct, 3),
            "co2e_kg": None if self.co2e_kg is None else round(self.co2e_kg, 1),
            "emission_factor": (
                None
                if self.factor is None
                else {"kg_co2e_per_unit": self.factor.kg_co2e_per_unit, "source": self.factor.source}
            ),
            "months": [
                {
                    "month": m.month,
                    "value": round(m.value, 3),
                    "previous_year": None if m.previous is None else round(m.previous, 3),
                    "change_pct": None if m.change_pct is None else round(m.change_pct, 2),
                    "comparable_days": m.like_for_like_days,
                    "estimated_share_pct": round(m.estimated / m.present * 100, 3) if m.present else None,
                    "missing_share_pct": round((m.slots - m.present) / m.slots * 100, 3),
                }
                for m in self.months
            ],
        }


@dataclass(frozen=True, slots=True)
class _Month:
    value: float = 0.0
    present: int = 0
    estimated: int = 0


def month_slots(year: int, month: int, zone: ZoneInfo) -> int:
    day = date(year, month, 1)
    total = 0
    while day.month == month:
        total += slots_in_day(day, zone)
        day = date.fromordinal(day.toordinal() + 1)
    return total


def _complete_days(series: Sequence[Sequence[Interval]], zone: ZoneInfo, year: int) -> dict[tuple[int, int], float]:
    """(month, day) -> use, for the local days of `year` on which every point has every quarter hour."""
    counts: dict[date, list[float]] = {}
    for intervals in series:
        for interval in intervals:
            day = interval.start.astimezone(zone).date()
            if day.year == year:
                totals = counts.setdefault(day, [0.0, 0.0])
                totals[0] += interval.value
                totals[1] += 1
    return {
        (day.month, day.day): value
        for day, (value, count) in counts.items()
        if count == len(series) * slots_in_day(day, zone)
    }


def _by_month(series: Iterable[Sequence[Interval]], zone: ZoneInfo, year: int) -> dict[int, _Month]:
    """Sum per local month of `year`; a quarter hour is estimated when any point's is not measured."""
    slots: dict[Any, tuple[float, bool]] = {}
    for intervals in series:
        for interval in intervals:
            local = interval.start.astimezone(zone)
            if local.year != year:
                continue
            value, estimated = slots.get(interval.start, (0.0, False))
            bad = interval.quality in (Quality.ESTIMATED, Quality.QUESTIONABLE)
            slots[interval.start] = (value + interval.value, estimated or bad)
    months: dict[int, _Month] = {}
    for start, (value, estimated) in slots.items():
        month = start.astimezone(zone).month
        found = months.get(month, _Month())
        months[month] = _Month(found.value + value, found.present + 1, found.estimated + int(estimated))
    return months


@dataclass(frozen=True)
class ResourceInput:
    building: str | None
    resource: Resource
    unit: str
    area_m2: float
    points: tuple[str, ...]
    series: Sequence[Sequence[Interval]] = field(default_factory=tuple)  # the year and the year before


def resource_figures(
    item: ResourceInput, year: int, zone: ZoneInfo, factors: Sequence[EmissionFactor], last_month: int = 12
) -> ResourceFigures:
    """Months 1..`last_month` of `year` (the current year ends at the current month)."""
    this_year = _by_month(item.series, zone, year)
    last_year = _by_month(item.series, zone, year - 1)
    now_days = _complete_days(item.series, zone, year)
    then_days = _complete_days(item.series, zone, year - 1)
    common = [key for key in now_days if key in then_days]  # 29 February has no partner
    months = []
    for month in range(1, last_month + 1):
        keys = [k for k in common if k[0] == month]
        pair = (sum(now_days[k] for k in keys), sum(then_days[k] for k in keys)) if keys else None
        found = this_year.get(month, _Month())
        months.append(
            MonthFigures(
                month,
                found.value,
                last_year[month].value if month in last_year else None,
                month_slots(year, month, zone),
                found.present,
                found.estimated,
                pair,
                len(keys),
            )
        )
    factor = next((f for f in factors if f.resource is item.resource and f.year == year), None)
    return ResourceFigures(item.building, item.resource, item.unit, item.points, item.area_m2, tuple(months), factor)


def co2e_total(figures: Iterable[ResourceFigures]) -> tuple[float, list[str]]:
    """Site CO2e in kg and the resources that have consumption but no factor (left out, and said so)."""
    total, missing = 0.0, []
    for item in figures:
        if item.co2e_kg is None:
            if item.total > 0 and item.resource.value not in missing:
                missing.append(item.resource.value)
        else:
            total += item.co2e_kg
    return total, missing
