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

import numpy as np
import numpy.typing as npt

from metering.delta_columns import Delta, DeltaColumns, Floats, Ints, instant
from metering.quality import by_rank, rank, worst_of
from metering.readings import Interval, Quality

SLOT = timedelta(minutes=15)
_US = timedelta(microseconds=1)
_SLOT_US = SLOT // _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Deltas up to one slot long come from ordinary polling (every 10 s to 15 min) and are split at slot
# boundaries without losing MEASURED; anything longer is a gap filled by interpolation.
MAX_MEASURED_SPAN = SLOT

_ESTIMATED, _QUESTIONABLE = rank(Quality.ESTIMATED), rank(Quality.QUESTIONABLE)

BucketSize = Literal["15min", "hour", "day", "month"]


def slot_start(ts: datetime) -> datetime:
    """The UTC start of the 15-minute slot containing the aware instant `ts`."""
    utc = ts.astimezone(UTC)
    return utc - timedelta(minutes=utc.minute % 15, seconds=utc.second, microseconds=utc.microsecond)


def to_intervals(
    point_id: str,
    deltas: DeltaColumns | Iterable[Delta],
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
    columns = deltas if isinstance(deltas, DeltaColumns) else DeltaColumns.of(deltas)
    start, end = columns.start_us, columns.end_us
    backwards = np.flatnonzero(end <= start)
    if len(backwards):
        k = int(backwards[0])
        ends, starts = instant(int(end[k])).isoformat(), instant(int(start[k])).isoformat()
        raise ValueError(f"delta of {point_id} ends {ends}, not after {starts}")
    parts = _Parts.split(columns, max_measured_span // _US, window)
    return parts.intervals(point_id)


@dataclass(frozen=True, slots=True)
class _Parts:
    """Each delta's share of each slot it overlaps, in delta order (the order sums are taken in)."""

    slots: npt.NDArray[np.int64]
    shares: npt.NDArray[np.float64]
    ranks: npt.NDArray[np.int8]
    overlaps: npt.NDArray[np.int64]

    @classmethod
    def split(cls, columns: DeltaColumns, max_measured: int, window: tuple[datetime, datetime] | None) -> _Parts:
        # Integer microseconds since the epoch: exact slot arithmetic.
        start, end, values, ranks = columns.start_us, columns.end_us, columns.values, columns.ranks
        first = start - start % _SLOT_US
        last = (end - 1) - (end - 1) % _SLOT_US
        span = end - start
        ranks = np.where((first != last) & (span > max_measured), np.maximum(ranks, _ESTIMATED), ranks)
        begin, stop = first, last
        if window is not None:
            begin = np.maximum(first, _us(window[0]))
            stop = np.minimum(last, _us(window[1]) - _SLOT_US)
        one = (first == last) & (begin <= stop)  # the common case: two polls inside one quarter hour
        # Two slots and nothing cut by the window: the first part in proportion, the second the rest.
        two = (last - first == _SLOT_US) & (begin == first) & (stop == last)
        many = np.flatnonzero((first != last) & ~two & (begin <= stop))
        i1, i2 = np.flatnonzero(one), np.flatnonzero(two)
        edge = first[i2] + _SLOT_US
        head = values[i2] * ((edge - start[i2]) / span[i2])
        pieces = [
            (i1, np.zeros(len(i1), np.int64), first[i1], values[i1], span[i1]),
            (i2, np.zeros(len(i2), np.int64), first[i2], head, edge - start[i2]),
            (i2, np.ones(len(i2), np.int64), edge, values[i2] - head, end[i2] - edge),
        ]
        if len(many):
            pieces.append(_long_parts(many, start, end, values, first, last, begin, stop))
        index = np.concatenate([p[0] for p in pieces])
        part = np.concatenate([p[1] for p in pieces])
        order = np.lexsort((part, index))
        return cls(
            np.concatenate([p[2] for p in pieces])[order],
            np.concatenate([p[3] for p in pieces])[order],
            ranks[index][order],
            np.concatenate([p[4] for p in pieces])[order],
        )

    def intervals(self, point_id: str) -> list[Interval]:
        slots, inverse = np.unique(self.slots, return_inverse=True)
        sums = np.bincount(inverse, weights=self.shares, minlength=len(slots))
        covered = np.bincount(inverse, weights=self.overlaps.astype(np.float64), minlength=len(slots))
        ranks = np.zeros(len(slots), dtype=np.int8)
        np.maximum.at(ranks, inverse, self.ranks)
        ranks = np.where(covered < _SLOT_US, np.maximum(ranks, _QUESTIONABLE), ranks)
        return [
            Interval(point_id, instant(slot), value, by_rank[q])
            for slot, value, q in zip(slots.tolist(), sums.tolist(), ranks.tolist(), strict=True)
        ]


def _long_parts(
    many: npt.NDArray[np.intp], start: Ints, end: Ints, values: Floats, first: Ints, last: Ints, begin: Ints, stop: Ints
) -> tuple[Ints, Ints, Ints, Floats, Ints]:
    """Parts of the deltas over three slots or more, or cut by the window (gaps: few, walked one by one)."""
    index, part, slots, shares, overlaps = [], [], [], [], []
    for k in many.tolist():
        s, e, value, final = int(start[k]), int(end[k]), float(values[k]), int(last[k])
        span, slot, n = e - s, int(begin[k]), 0
        assigned = value * ((max(s, slot) - s) / span)
        while slot <= int(stop[k]):
            overlap = min(e, slot + _SLOT_US) - max(s, slot)
            share = value - assigned if slot == final else value * (overlap / span)
            assigned += share
            index.append(k)
            part.append(n)
            slots.append(slot)
            shares.append(share)
            overlaps.append(overlap)
            slot += _SLOT_US
            n += 1
    ints = np.int64
    return (
        np.array(index, ints),
        np.array(part, ints),
        np.array(slots, ints),
        np.array(shares, np.float64),
        np.array(overlaps, ints),
    )


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
