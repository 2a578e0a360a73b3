"""BACnet values → domain values: trend kinds and values, Schedule and Calendar objects.

bacpypes3 hands Dates as (year − 1900, month, day, weekday) and Times as (hour, minute, second,
hundredths); 255 is a wildcard (clause 20.2.12/13). A Schedule's values are AnyAtomic: unwrap with
`get_value()`; Null means "relinquish" (fall back to Schedule_Default, 12.24.4).
"""

from __future__ import annotations

import logging
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from metering.hvac.schedule import Change, OccupancySchedule, ScheduleException
from metering.trends import TrendKind

log = logging.getLogger(__name__)

WILDCARD = 255


def trend_kind(object_type: str) -> TrendKind | None:
    if object_type.startswith("binary"):
        return TrendKind.BINARY
    if object_type.startswith("multi-state"):
        return TrendKind.MULTISTATE
    if object_type.startswith("analog") or object_type in ("accumulator", "large-analog-value"):
        return TrendKind.ANALOG
    return None


def trend_value(kind: TrendKind, value: Any) -> float | None:
    """A stored float for a Present_Value, or None when it is not one (an error, a Null)."""
    if kind is TrendKind.BINARY:
        text = str(value)
        if text in ("active", "1"):
            return 1.0
        if text in ("inactive", "0"):
            return 0.0
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if kind is TrendKind.MULTISTATE and (number < 1 or not number.is_integer()):
        return None
    return number


def _atomic(value: Any) -> Any:
    get = getattr(value, "get_value", None)
    return get() if callable(get) else value


def _is_on(value: Any, default: bool) -> bool:
    inner = _atomic(value)
    if inner is None or type(inner).__name__ == "Null":
        return default
    text = str(inner)
    if text in ("active", "inactive"):
        return text == "active"
    try:
        return float(inner) > 0.5
    except (TypeError, ValueError):
        return bool(inner)


def _time(value: Any) -> time:
    hour, minute, second, _hundredths = tuple(value)
    return time(hour, minute, 0 if second == WILDCARD else second)


def _changes(time_values: Any, default: bool) -> tuple[Change, ...]:
    return tuple((_time(tv.time), _is_on(tv.value, default)) for tv in (time_values or []))


def bacnet_date(value: Any) -> date | None:
    year, month, day, _weekday = tuple(value)
    if WILDCARD in (year, month, day) or month > 12:  # 13/14 = odd/even months: not a single date
        return None
    return date(year + 1900, month, day)


def calendar_dates(date_list: Any) -> tuple[frozenset[date], tuple[tuple[date, date], ...]]:
    """A Calendar's Date_List (12.9.7): single dates and date ranges; WeekNDay entries are skipped."""
    dates: set[date] = set()
    ranges: list[tuple[date, date]] = []
    for entry in date_list or []:
        if getattr(entry, "date", None) is not None:
            found = bacnet_date(entry.date)
            if found is not None:
                dates.add(found)
        elif getattr(entry, "dateRange", None) is not None:
            first, last = bacnet_date(entry.dateRange.startDate), bacnet_date(entry.dateRange.endDate)
            if first is not None and last is not None:
                ranges.append((first, last))
        else:
            log.warning("calendar entry %r (week-n-day) not supported; ignored", entry)
    return frozenset(dates), tuple(ranges)


def schedule(
    weekly: Any,
    exceptions: Any,
    default: Any,
    calendars: dict[str, tuple[frozenset[date], tuple[tuple[date, date], ...]]],
    zone: ZoneInfo,
    name: str = "",
) -> OccupancySchedule:
    """A Schedule object's Weekly_Schedule (Monday first, 12.24.6) and Exception_Schedule (12.24.8).

    `calendars` maps "calendar,N" to the referenced Calendar's dates, read beforehand.
    """
    off = _is_on(default, False)
    days = [_changes(day.daySchedule, off) for day in (weekly or [])]
    days += [()] * (7 - len(days))
    found: list[ScheduleException] = []
    for event in exceptions or []:
        period = event.period
        changes = _changes(event.listOfTimeValues, off)
        priority = int(event.eventPriority)
        if getattr(period, "calendarReference", None) is not None:
            ref = period.calendarReference
            key = f"{ref[0]},{ref[1]}"
            if key not in calendars:
                log.warning("schedule %s refers to %s, which was not read; exception ignored", name, key)
                continue
            dates, ranges = calendars[key]
            found.append(ScheduleException(changes, dates=dates, ranges=ranges, priority=priority))
        else:
            dates, ranges = calendar_dates([period.calendarEntry])
            found.append(ScheduleException(changes, dates=dates, ranges=ranges, priority=priority))
    return OccupancySchedule(tuple(days[:7]), zone, tuple(found), default=off, source="bms", name=name)
