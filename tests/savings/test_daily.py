"""Local days from 15-minute intervals: DST days have 92 and 100 quarter hours; gaps lower the coverage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metering.readings import Interval, Quality
from metering.savings.daily import (
    WeatherCsvError,
    daily_mean_temperature,
    daily_use,
    degree_days,
    read_weather_csv,
    slots_in_day,
)
from metering.trends import TrendKind, TrendSample

BERLIN = ZoneInfo("Europe/Berlin")


def quarter_hours(first: date, last: date) -> list[datetime]:
    start = datetime(first.year, first.month, first.day, tzinfo=BERLIN).astimezone(UTC)
    after = last + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=BERLIN).astimezone(UTC)
    found = []
    while start < end:
        found.append(start)
        start += timedelta(minutes=15)
    return found


def test_dst_days_have_their_own_length() -> None:
    assert slots_in_day(date(2025, 3, 30), BERLIN) == 92
    assert slots_in_day(date(2025, 10, 26), BERLIN) == 100
    assert slots_in_day(date(2025, 10, 27), BERLIN) == 96
    intervals = [Interval("p", t, 1.0) for t in quarter_hours(date(2025, 3, 29), date(2025, 3, 31))]
    intervals += [Interval("p", t, 1.0) for t in quarter_hours(date(2025, 10, 26), date(2025, 10, 26))]
    days = daily_use([intervals], BERLIN)
    assert [(d.day.isoformat(), d.value, d.slots, d.coverage) for d in days] == [
        ("2025-03-29", 96.0, 96, 1.0),
        ("2025-03-30", 92.0, 92, 1.0),
        ("2025-03-31", 96.0, 96, 1.0),
        ("2025-10-26", 100.0, 100, 1.0),
    ]


def test_gaps_and_estimates_lower_the_coverage() -> None:
    slots = quarter_hours(date(2025, 6, 2), date(2025, 6, 2))
    intervals = [
        Interval("p", t, 2.0, Quality.ESTIMATED if 10 <= i < 30 else Quality.MEASURED)
        for i, t in enumerate(slots)
        if not 50 <= i < 60  # ten quarter hours missing
    ]
    (day,) = daily_use([intervals], BERLIN)
    assert (day.value, day.present, day.measured) == (172.0, 86, 66)
    assert day.coverage == pytest.approx(66 / 96) and not day.complete


def test_several_points_sum_and_a_slot_counts_when_all_have_it() -> None:
    slots = quarter_hours(date(2025, 6, 2), date(2025, 6, 2))
    a = [Interval("a", t, 1.0) for t in slots]
    b = [Interval("b", t, 0.5) for t in slots[:48]]
    (day,) = daily_use([a, b], BERLIN)
    assert (day.value, day.present, day.measured) == (96 + 24, 48, 48)


def test_temperature_means_and_degree_days() -> None:
    slots = quarter_hours(date(2025, 1, 6), date(2025, 1, 7))
    samples = [TrendSample("oat", t, TrendKind.ANALOG, -2.0 if i < 96 else 4.0) for i, t in enumerate(slots)]
    samples = samples[:96] + samples[96:130]  # the 7th has only 34 samples: no mean
    assert daily_mean_temperature(samples, BERLIN) == {date(2025, 1, 6): -2.0}
    assert degree_days(-2.0, 15.0, 18.0) == (17.0, 0.0)
    assert degree_days(22.5, 15.0, 18.0) == (0.0, 4.5)


def test_weather_csv() -> None:
    text = "date,mean_temperature_c\n2025-01-06,-2.5\n2025-01-07,1\n\n"
    assert read_weather_csv(text) == {date(2025, 1, 6): -2.5, date(2025, 1, 7): 1.0}
    with pytest.raises(WeatherCsvError, match="line 3: expected YYYY-MM-DD,degC"):
        read_weather_csv("date,mean_temperature_c\n2025-01-06,-2.5\n07.01.2025,1\n")
    with pytest.raises(WeatherCsvError, match="line 1"):
        read_weather_csv("day,temp\n")
    with pytest.raises(WeatherCsvError, match="given twice"):
        read_weather_csv("date,mean_temperature_c\n2025-01-06,1\n2025-01-06,2\n")
