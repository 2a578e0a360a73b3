"""Which spans a period comparison compares: a month against the month before and the same month a
year before. A month still running is compared "to date": each other month up to the same day and
time of day, so a half month is never set against a whole one. Pure functions, site-local wall time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from billing_export.period import Period

Span = tuple[datetime, datetime]  # [start, end), aware UTC


@dataclass(frozen=True)
class ComparedPeriod:
    label: str  # "2026-12"
    role: str  # "this", "previous", "year before"
    start: datetime
    end: datetime
    to_date: bool  # cut at the same elapsed time as a month still running


def _year_before(period: Period) -> Period:
    return Period(period.year - 1, period.month, period.zone)


def compared_periods(month: Period, now: datetime) -> list[ComparedPeriod]:
    """The month, the one before and the same month a year before (future parts cut off at `now`)."""
    zone = month.zone
    running = month.start <= now < month.end
    elapsed = now.astimezone(zone).replace(tzinfo=None) - datetime.combine(month.first_day, time(0))
    result = []
    for role, period in (("this", month), ("previous", month.previous()), ("year before", _year_before(month))):
        end = period.end
        if running:
            # the same wall-clock offset into the month; a day the month lacks (31st) ends it
            cut = (datetime.combine(period.first_day, time(0)) + elapsed).replace(tzinfo=zone).astimezone(UTC)
            end = min(end, cut)
        end = min(end, now.astimezone(UTC))
        result.append(ComparedPeriod(str(period), role, period.start, max(end, period.start), running))
    return result
