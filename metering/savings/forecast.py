"""The rest of a month projected by a baseline, and the days that left their prediction interval.

A month's forecast is what was measured up to yesterday plus the baseline's prediction for today and
the days after it; the drivers of days to come (their degree days) are the caller's guess, usually the
same days a year before. The uncertainty covers the model, not the weather guess.
A measured day outside its prediction interval is a `forecast-deviation` event: more (or less) than
the weather and the calendar explain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from metering.events import Event
from metering.savings.baseline import Baseline, DayDrivers, DayPrediction
from metering.savings.daily import DailyUse

KIND = "forecast-deviation"


@dataclass(frozen=True)
class MonthForecast:
    subject: str  # "tenant:<id>" or "building:<id>"
    resource: str
    unit: str
    first_day: date
    last_day: date
    measured: float  # days before `today`
    measured_days: int
    predicted: tuple[DayPrediction, ...]  # `today` to the month's last day
    uncertainty: float  # ± of the predicted rest at the baseline's confidence

    @property
    def rest(self) -> float:
        return sum(p.expected for p in self.predicted)

    @property
    def total(self) -> float:
        return self.measured + self.rest


def month_days(day: date) -> list[date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(days=i) for i in range((following - first).days)]


def month_forecast(
    subject: str,
    resource: str,
    unit: str,
    baseline: Baseline,
    uses: Sequence[DailyUse],
    drivers: Mapping[date, DayDrivers],
    today: date,
) -> MonthForecast | None:
    """None when the baseline is not usable or a day to come has no drivers."""
    days = month_days(today)
    ahead = [d for d in days if d >= today]
    if not baseline.usable or any(d not in drivers for d in ahead):
        return None
    done = [u for u in uses if days[0] <= u.day < today]
    rows = [drivers[d] for d in ahead]
    predicted = tuple(baseline.predict(rows))
    spread = baseline.inflation() * baseline.sum_variance(rows) if rows else 0.0
    uncertainty = baseline.t_value() * math.sqrt(spread)
    return MonthForecast(
        subject, resource, unit, days[0], days[-1], sum(u.value for u in done), len(done), predicted, uncertainty
    )


def deviations(
    subject: str,
    points: Sequence[str],
    unit: str,
    baseline: Baseline,
    uses: Sequence[DailyUse],
    drivers: Mapping[date, DayDrivers],
    zone: ZoneInfo,
    min_coverage: float,
) -> list[Event]:
    """An event for each well-measured day whose use lies outside its prediction interval."""
    if not baseline.usable:
        return []
    judged = [u for u in uses if u.coverage >= min_coverage and u.day in drivers]
    events = []
    level = baseline.settings.deviation_confidence
    for use, expected in zip(judged, baseline.predict([drivers[u.day] for u in judged], level), strict=True):
        if expected.low <= use.value <= expected.high:
            continue
        above = use.value > expected.high
        start = datetime.combine(use.day, time(0), zone).astimezone(UTC)
        end = datetime.combine(use.day + timedelta(days=1), time(0), zone).astimezone(UTC)
        excess = use.value - expected.expected
        events.append(
            Event(
                kind=KIND,
                subject=subject,
                severity="warning" if above else "info",
                started_at=start,
                ended_at=end,
                title=(
                    f"{subject} used {use.value:,.1f} {unit} on {use.day}, "
                    f"{'above' if above else 'below'} its forecast {expected.expected:,.1f} "
                    f"({expected.low:,.1f} to {expected.high:,.1f})"
                ),
                dedup_key=f"{KIND}:{subject}:{','.join(points)}:{use.day.isoformat()}",
                energy=round(excess, 3) if above else None,
                energy_unit=unit if above else None,
                details={
                    "day": use.day.isoformat(),
                    "points": list(points),
                    "measured": round(use.value, 3),
                    "expected": round(expected.expected, 3),
                    "low": round(expected.low, 3),
                    "high": round(expected.high, 3),
                    "confidence": level,
                },
            )
        )
    return events
