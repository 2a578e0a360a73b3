"""Occupancy schedules as plain values: a BACnet Schedule (weekly + exception schedule) or YAML windows.

BACnet (ASHRAE 135 clause 12.24): each day of the Weekly_Schedule is a list of (time, value) changes;
the value holds until the next change. Exception_Schedule entries (a date, a date range or a Calendar's
dates, with a priority) replace the weekly day when they match, the lowest priority number winning
(12.24.8). A day without any change before the first entry takes the previous day's last value; we
start such a day unoccupied, as a controller would at midnight (Schedule_Default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

Change = tuple[time, bool]  # from this local time on: occupied or not


@dataclass(frozen=True, slots=True)
class ScheduleException:
    """Days replaced by their own changes: explicit dates (a holiday calendar) or a date range."""

    changes: tuple[Change, ...]
    dates: frozenset[date] = frozenset()
    ranges: tuple[tuple[date, date], ...] = ()  # inclusive
    priority: int = 16  # 1 highest (BACnet event priority)

    def matches(self, day: date) -> bool:
        return day in self.dates or any(first <= day <= last for first, last in self.ranges)


@dataclass(frozen=True, slots=True)
class OccupancySchedule:
    """Weekly changes per weekday (0 = Monday) and exception days; evaluated in the site's zone."""

    weekly: tuple[tuple[Change, ...], ...]  # seven days
    zone: ZoneInfo
    exceptions: tuple[ScheduleException, ...] = ()
    default: bool = False
    source: str = "bms"  # "bms" (the controller's Schedule object) or "yaml"
    name: str = field(default="")

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"a weekly schedule has 7 days, not {len(self.weekly)}")

    def day_changes(self, day: date) -> tuple[Change, ...]:
        found = [e for e in self.exceptions if e.matches(day)]
        if found:
            return min(found, key=lambda e: e.priority).changes
        return self.weekly[day.weekday()]

    def is_exception_day(self, day: date) -> bool:
        return any(e.matches(day) for e in self.exceptions)

    def occupied(self, moment: datetime) -> bool:
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment!r}")
        local = moment.astimezone(self.zone)
        state = self.default
        for at, value in sorted(self.day_changes(local.date())):
            if at <= local.time().replace(tzinfo=None):
                state = value
        return state


def windows_schedule(
    windows: Sequence[tuple[Sequence[int], time, time]], zone: ZoneInfo, holidays: frozenset[date] = frozenset()
) -> OccupancySchedule:
    """A YAML fallback: occupied from `start` to `end` on the given weekdays, unoccupied on holidays."""
    days: list[list[Change]] = [[] for _ in range(7)]
    for weekdays, start, end in windows:
        for weekday in weekdays:
            days[weekday].append((start, True))
            if end != time(0):
                days[weekday].append((end, False))
    exceptions = (ScheduleException((), dates=holidays, priority=1),) if holidays else ()
    return OccupancySchedule(tuple(tuple(d) for d in days), zone, exceptions, source="yaml")


def _changes_json(changes: tuple[Change, ...]) -> list[list[Any]]:
    return [[at.isoformat(), value] for at, value in changes]


def _changes_from(items: Sequence[Sequence[Any]]) -> tuple[Change, ...]:
    return tuple((time.fromisoformat(str(at)), bool(value)) for at, value in items)


def schedule_to_json(schedule: OccupancySchedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "source": schedule.source,
        "default": schedule.default,
        "weekly": [_changes_json(day) for day in schedule.weekly],
        "exceptions": [
            {
                "changes": _changes_json(e.changes),
                "dates": sorted(d.isoformat() for d in e.dates),
                "ranges": [[a.isoformat(), b.isoformat()] for a, b in e.ranges],
                "priority": e.priority,
            }
            for e in schedule.exceptions
        ],
    }


def schedule_from_json(data: Mapping[str, Any], zone: ZoneInfo) -> OccupancySchedule:
    exceptions = tuple(
        ScheduleException(
            _changes_from(e["changes"]),
            dates=frozenset(date.fromisoformat(d) for d in e["dates"]),
            ranges=tuple((date.fromisoformat(a), date.fromisoformat(b)) for a, b in e["ranges"]),
            priority=int(e["priority"]),
        )
        for e in data["exceptions"]
    )
    weekly = tuple(_changes_from(day) for day in data["weekly"])
    return OccupancySchedule(
        weekly, zone, exceptions, default=bool(data["default"]), source=str(data["source"]), name=str(data["name"])
    )
