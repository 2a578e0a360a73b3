"""Consumption deltas into 15-minute intervals, and intervals into local-time buckets.

Slots are [start, start + 15 min) aligned to UTC quarter hours. Every timezone offset in use today is a
multiple of 15 minutes (the odd ones are +05:45 Nepal and +12:45 Chatham), so UTC quarter hours are
also local quarter hours everywhere; buckets of an hour or more are formed in the site's local time, so a
DST day has 92 or 100 slots and 23 or 25 hours.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from metering.counters import Delta
from metering.quality import worst, worst_of
from metering.readings import Interval, Quality

SLOT = timedelta(minutes=15)
_US = timedelta(microseconds=1)
_SLOT_US = SLOT // _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Deltas up to one slot long come from ordinary polling (every 10 s to 15 min) and are split at slot
# boundaries without losing MEASURED; anything longer is a gap filled by interpolation.
MAX_MEASURED_SPAN = SLOT

BucketSize = Literal["15min", "hour", "day", "month"]


def slot_start(ts: datetime) -> datetime:
    """The UTC start of the 15-minute slot containing the aware instant `ts`."""
    utc = ts.astimezone(UTC)
    return utc - timedelta(minutes=utc.minute % 15, seconds=utc.second, microseconds=utc.microsecond)


def to_intervals(
    point_id: str,
    deltas: Iterable[Delta],
    *,
    max_measured_span: timedelta = MAX_MEASURED_SPAN,
    window: tuple[datetime, datetime] | None = None,
) -> list[Interval]:
    """Attribute deltas to the slots their span (start_ts, end_ts] overlaps, summing per slot.

    A reading at 10:15:00 closes the 10:00 slot (docs/vee.md: consumption belongs to the interval that
    ended), because the delta ending there has no overlap with the 10:15 slot. A delta over several
    slots is split in proportion to time; the last part takes the remainder so the parts add up to the
    delta. Splitting a delta no longer than `max_measured_span` (two consecutive polls, e.g. 10:14:30 →
    10:15:30) is interpolation across less than a poll cycle, so its parts keep the delta's quality;
    a longer delta is a real gap and its parts are ESTIMATED (Green Button code 9, linear
    interpolation). A slot only partly covered by deltas (a fault step or the start/end of the series
    leaves the rest unknown) is QUESTIONABLE: its value is a lower bound.

    `window` (UTC quarter hours [start, end)) keeps only the slots inside it and never walks the slots
    outside: a delta from a reading stamped in year 1 costs the window's slots, not two millennia's.
    """
    if max_measured_span < timedelta(0):
        raise ValueError(f"max_measured_span must not be negative, got {max_measured_span}")
    # Integer microseconds since the epoch: exact slot arithmetic, and fast (no datetime per slot).
    lo, hi = (_us(window[0]), _us(window[1])) if window is not None else (None, None)
    max_measured = max_measured_span // _US
    values: dict[int, float] = {}
    qualities: dict[int, Quality] = {}
    covered: dict[int, int] = {}
    for delta in deltas:
        start, end = _us(delta.start_ts), _us(delta.end_ts)
        if end <= start:
            ends, starts = delta.end_ts.isoformat(), delta.start_ts.isoformat()
            raise ValueError(f"delta of {point_id} ends {ends}, not after {starts}")
        first_slot = start - start % _SLOT_US
        last_slot = (end - 1) - (end - 1) % _SLOT_US
        quality = delta.quality
        if first_slot == last_slot:  # the common case: two polls inside one quarter hour
            if lo is not None and hi is not None and not lo <= first_slot < hi:
                continue
            values[first_slot] = values.get(first_slot, 0.0) + delta.value
            qualities[first_slot] = worst(qualities.get(first_slot, Quality.MEASURED), quality)
            covered[first_slot] = covered.get(first_slot, 0) + (end - start)
            continue
        span = end - start
        if span > max_measured:
            quality = worst(quality, Quality.ESTIMATED)
        slot = first_slot if lo is None else max(first_slot, lo)
        stop = last_slot if hi is None else min(last_slot, hi - _SLOT_US)
        # The delta's last slot takes the remainder, so the parts of a delta add up to it exactly.
        assigned = delta.value * ((max(start, slot) - start) / span)
        while slot <= stop:
            overlap = min(end, slot + _SLOT_US) - max(start, slot)
            share = delta.value - assigned if slot == last_slot else delta.value * (overlap / span)
            assigned += share
            values[slot] = values.get(slot, 0.0) + share
            qualities[slot] = worst(qualities.get(slot, Quality.MEASURED), quality)
            covered[slot] = covered.get(slot, 0) + overlap
            slot += _SLOT_US
    result = []
    for slot in sorted(values):
        quality = qualities[slot] if covered[slot] >= _SLOT_US else worst(qualities[slot], Quality.QUESTIONABLE)
        result.append(Interval(point_id, _EPOCH + slot * _US, values[slot], quality))
    return result


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


@dataclass(frozen=True, slots=True)
class Bucket:
    """Consumption over [start_local, end_local) in the site's time zone."""

    start_local: datetime
    end_local: datetime
    value: float
    quality: Quality
    count: int  # intervals present
    complete: bool  # every 15-minute slot of the bucket is present


def aggregate(intervals: Sequence[Interval], by: BucketSize, tz: ZoneInfo) -> list[Bucket]:
    """Sum the intervals of one point into local 15-minute, hour, day or month buckets.

    Only buckets with at least one interval are returned, in time order. A bucket's quality is the
    worst of its intervals; `complete` says whether every slot it spans is present.
    """
    key = _bucket_key(by, tz)
    seen: set[datetime] = set()
    groups: dict[Hashable, list[Interval]] = {}
    for interval in intervals:
        start = interval.start.astimezone(UTC)
        if start != slot_start(start):
            raise ValueError(f"interval of {interval.point_id} starts off the quarter hour: {start:%H:%M:%S}")
        if start in seen:
            raise ValueError(f"two intervals start at {start.isoformat()}; aggregate one point at a time")
        seen.add(start)
        groups.setdefault(key(start), []).append(interval)
    buckets = []
    for members in groups.values():
        slots = _span(members[0].start.astimezone(UTC), key)
        buckets.append(
            Bucket(
                start_local=slots[0].astimezone(tz),
                end_local=(slots[-1] + SLOT).astimezone(tz),
                value=sum(i.value for i in members),
                quality=worst_of(i.quality for i in members),
                count=len(members),
                complete=len(members) == len(slots),
            )
        )
    # By instant: aware datetimes in one zone compare by wall clock, which puts the repeated autumn
    # hour's 02:00+01:00 before 02:15+02:00.
    return sorted(buckets, key=lambda b: b.start_local.astimezone(UTC))


def local_day_slots(day: date, tz: ZoneInfo) -> list[datetime]:
    """Starts of the local day's quarter hours, aware in `tz`: 96, or 92/100 on DST change days."""
    probe = slot_start(datetime.combine(day, time(12), tz))  # midday exists on every day
    return [slot.astimezone(tz) for slot in _span(probe, _bucket_key("day", tz))]


def _bucket_key(by: BucketSize, tz: ZoneInfo) -> Callable[[datetime], Hashable]:
    # Keys are local labels; the UTC offset keeps the repeated autumn hour apart from the first one.
    if by == "15min":
        return lambda utc: utc
    if by == "hour":
        return lambda utc: _hour_key(utc.astimezone(tz))
    if by == "day":
        return lambda utc: utc.astimezone(tz).date()
    if by == "month":
        return lambda utc: utc.astimezone(tz).date().replace(day=1)
    raise ValueError(f"unknown bucket size {by!r}; expected 15min, hour, day or month")


def _hour_key(local: datetime) -> Hashable:
    return (local.date(), local.hour, local.utcoffset())


def _span(probe: datetime, key: Callable[[datetime], Hashable]) -> list[datetime]:
    """All UTC slot starts sharing the key of `probe`, found by walking out from it.

    Walking slot by slot, rather than doing arithmetic on wall times, gets DST days and zones whose
    transitions fall at odd times right without special cases.
    """
    label = key(probe)
    first = probe
    while key(first - SLOT) == label:
        first -= SLOT
    last = probe
    while key(last + SLOT) == label:
        last += SLOT
    return [first + SLOT * i for i in range(int((last - first) / SLOT) + 1)]
