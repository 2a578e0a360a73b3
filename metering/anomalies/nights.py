"""Local-time windows as instants: nights, days and weeks of the site's calendar, DST-aware.

A window is given in wall time; its instants come from the zone, so the night of the spring change
from 01:00 to 04:00 lasts two hours and the autumn one four (docs/anomalies.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SLOT = timedelta(minutes=15)


def night_window(night: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the night that ends on local date `night`; a window over midnight starts the day before."""
    first = night if start < end else night - timedelta(days=1)
    return utc(datetime.combine(first, start, zone)), utc(datetime.combine(night, end, zone))


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return utc(datetime.combine(day, time(0), zone)), utc(datetime.combine(day + timedelta(days=1), time(0), zone))


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Local dates from the one holding `start` to the one holding the last instant before `end`."""
    day = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def slots(start: datetime, end: datetime) -> Iterator[datetime]:
    """Quarter-hour slot starts in [start, end) (both on quarter hours)."""
    moment, end = utc(start), utc(end)
    while moment < end:
        yield moment
        moment += SLOT


def slot_count(start: datetime, end: datetime) -> int:
    return int((utc(end) - utc(start)) / SLOT)


def utc(moment: datetime) -> datetime:
    """Instants in UTC: arithmetic on a zone-local datetime is wall-clock arithmetic, wrong across DST."""
    return moment.astimezone(UTC)
