"""Days of a site: consumption per local day with the share measured, and daily outdoor temperatures.

A local day has 96 quarter hours, 92 on the spring DST day and 100 on the autumn one; a day's coverage is
its measured quarter hours over the quarter hours it really has, so DST days are neither short nor long.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from metering.readings import Interval, Quality
from metering.trends import TrendSample

SLOT = timedelta(minutes=15)
# A trend sampled every 15 minutes gives 96 a day; half of them still give a fair daily mean.
MIN_TEMPERATURE_SAMPLES = 48


@dataclass(frozen=True, slots=True)
class DailyUse:
    """Consumption of one local day; `measured` of its `slots` quarter hours were read, not estimated."""

    day: date
    value: float
    slots: int
    present: int
    measured: int

    @property
    def coverage(self) -> float:
        return self.measured / self.slots

    @property
    def complete(self) -> bool:
        return self.present == self.slots


def slots_in_day(day: date, zone: ZoneInfo) -> int:
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return int((end - start) / SLOT)


def daily_use(series: Iterable[Sequence[Interval]], zone: ZoneInfo) -> list[DailyUse]:
    """The sum of one or more points' intervals per local day (days with no interval are left out).

    With several points a quarter hour is present when every point has it, measured when every point's is.
    """
    per_slot: dict[datetime, tuple[float, int, int]] = {}
    count = 0
    for intervals in series:
        count += 1
        for interval in intervals:
            value, present, measured = per_slot.get(interval.start, (0.0, 0, 0))
            ok = interval.quality in (Quality.MEASURED, Quality.MANUAL, Quality.CORRECTED)
            per_slot[interval.start] = (value + interval.value, present + 1, measured + int(ok))
    days: dict[date, list[float]] = {}
    for start, (value, present, measured) in per_slot.items():
        day = start.astimezone(zone).date()
        totals = days.setdefault(day, [0.0, 0, 0])
        totals[0] += value
        totals[1] += int(present == count)
        totals[2] += int(measured == count)
    return [
        DailyUse(day, totals[0], slots_in_day(day, zone), int(totals[1]), int(totals[2]))
        for day, totals in sorted(days.items())
    ]


def daily_mean_temperature(samples: Iterable[TrendSample], zone: ZoneInfo) -> dict[date, float]:
    """Mean of a temperature trend per local day; a day with fewer than 48 samples has none."""
    sums: dict[date, list[float]] = {}
    for sample in samples:
        totals = sums.setdefault(sample.ts.astimezone(zone).date(), [0.0, 0.0])
        totals[0] += sample.value
        totals[1] += 1
    return {day: total / n for day, (total, n) in sorted(sums.items()) if n >= MIN_TEMPERATURE_SAMPLES}


class WeatherCsvError(ValueError):
    """A weather station CSV that cannot be read; the message names the line."""


def read_weather_csv(text: str) -> dict[date, float]:
    """'date,mean_temperature_c' rows (ISO dates, degC, a header line), as a weather service exports them."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["date", "mean_temperature_c"]:
        raise WeatherCsvError("line 1: the header must be 'date,mean_temperature_c'")
    found: dict[date, float] = {}
    for line, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        try:
            day = date.fromisoformat(row[0].strip())
            value = float(row[1])
        except (ValueError, IndexError):
            raise WeatherCsvError(f"line {line}: expected YYYY-MM-DD,degC, got {','.join(row)!r}") from None
        if not -60.0 <= value <= 60.0:
            raise WeatherCsvError(f"line {line}: {value} degC is not an outdoor temperature")
        if day in found:
            raise WeatherCsvError(f"line {line}: {day} is given twice")
        found[day] = value
    return found


def degree_days(mean_c: float, heating_base_c: float, cooling_base_c: float) -> tuple[float, float]:
    """(heating, cooling) degree days of a day from its mean outdoor temperature (the mean-temperature method)."""
    return max(0.0, heating_base_c - mean_c), max(0.0, mean_c - cooling_base_c)


def working_day(day: date, holidays: Mapping[date, object] | frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays
