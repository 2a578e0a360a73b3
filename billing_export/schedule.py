"""When a billing schedule fires: cron expressions read on the site's local wall clock.

A cron time is a wall-clock time, so across daylight-saving changes it is mapped to an instant the way
classic cron does it: a time that does not exist (skipped by the spring change) fires when the clock
jumps past it, and a time that happens twice (the autumn change) fires once, at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from billing_export.period import Period

# wider than any UTC offset change, so iterating wall times from here cannot miss a fire
_MARGIN = timedelta(hours=3)
_SECOND = timedelta(seconds=1)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def first_instant_at_or_after(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which the local clock shows `wall` or later (aware, UTC)."""
    earlier = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(earlier, zone) == wall:
        return earlier  # the time exists; fold=0 is its first occurrence
    # a time in a spring-forward gap: the clock jumps over it at the transition, which lies between
    # the two readings of `wall` (new offset: before the jump, old offset: after it)
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), earlier
    while high - low > _SECOND:
        middle = low + (high - low) / 2
        if _wall(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def next_fire(cron: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first fire of `cron` strictly after the aware instant `after`."""
    walls = croniter(cron, _wall(after, zone) - _MARGIN)
    while True:
        fire = first_instant_at_or_after(walls.get_next(datetime), zone)
        if fire > after:
            return fire


def previous_fire(cron: str, zone: ZoneInfo, at_or_before: datetime) -> datetime:
    """The last fire of `cron` at or before the aware instant `at_or_before`."""
    walls = croniter(cron, _wall(at_or_before, zone) + _MARGIN)
    while True:
        fire = first_instant_at_or_after(walls.get_prev(datetime), zone)
        if fire <= at_or_before:
            return fire


def period_for(which: str, fire: datetime, zone: ZoneInfo) -> Period:
    """The billing period a schedule means when it fires at `fire`: the month before, or the month of it."""
    local = fire.astimezone(zone)
    current = Period(local.year, local.month, zone)
    if which == "previous-month":
        return current.previous()
    if which == "current-month":
        return current
    raise ValueError(f"unknown schedule period {which!r}")
