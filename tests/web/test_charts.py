"""Chart arithmetic on values small enough to check by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bms_bridge.web.charts import day_profile, downsample, heat_map
from metering.store.timecodec import to_ms

BERLIN = ZoneInfo("Europe/Berlin")
SLOT = timedelta(minutes=15)


def ms(moment: datetime) -> int:
    return to_ms(moment)


def test_downsample_keeps_every_peak_and_trough_of_a_year() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    samples = [(ms(start + SLOT * i), 1.0, "measured") for i in range(35_040)]  # a year of quarter hours
    samples[20_000] = (samples[20_000][0], 9.0, "measured")  # one spike
    samples[30_000] = (samples[30_000][0], -4.0, "estimated")  # one trough
    shown = downsample(samples, 2000)
    assert len(shown) <= 2000
    values = [v for _t, v, _q in shown]
    assert max(values) == 9.0 and min(values) == -4.0
    assert [t for t, _v, _q in shown] == sorted(t for t, _v, _q in shown)
    assert shown[0] == samples[0] and shown[-1][0] == samples[-1][0]


def test_downsample_leaves_short_series_alone() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    samples = [(ms(start + SLOT * i), float(i), "measured") for i in range(10)]
    assert downsample(samples, 2000) == samples


def test_day_profile_averages_working_days_and_weekends_apart() -> None:
    # Friday 2025-06-06 and Saturday 2025-06-07, local 08:00: 2.0 on Friday, 5.0 on Saturday;
    # Monday 2025-06-09 (Whit Monday, a holiday) 08:00: 7.0
    def at(day: int, value: float) -> tuple[int, float, str]:
        return (ms(datetime(2025, 6, day, 8, 0, tzinfo=BERLIN)), value, "measured")

    holidays = {date(2025, 6, 9)}
    profile = day_profile([at(6, 2.0), at(7, 5.0), at(9, 7.0)], BERLIN, lambda d: d.weekday() >= 5 or d in holidays)
    eight = profile.slots.index("08:00")
    assert profile.working[eight] == 2.0
    assert profile.weekend[eight] == 6.0  # (5 + 7) / 2
    assert profile.working[eight + 1] is None
    assert (profile.working_days, profile.weekend_days) == (1, 2)


def test_heat_map_sums_quarter_hours_into_local_hours_even_on_dst_days() -> None:
    # 2025-10-26: the clock goes back at 03:00 CEST, so local 02:00-03:00 happens twice (8 quarter hours)
    start = datetime(2025, 10, 26, 0, 0, tzinfo=BERLIN).astimezone(UTC)
    samples = [(ms(start + SLOT * i), 1.0, "measured") for i in range(100)]  # the whole 25-hour day
    heat = heat_map(samples, BERLIN)
    assert heat.days == [date(2025, 10, 26)]
    row = heat.values[0]
    assert row[1] == 4.0
    assert row[2] == 8.0  # the repeated hour
    assert sum(v or 0 for v in row) == 100.0
