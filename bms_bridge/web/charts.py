"""Chart data from stored values: downsampling, day profiles and day × hour heat maps. Pure functions.

Times come in as UTC epoch milliseconds (as stored) and go out labelled in the site's local time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

Sample = tuple[int, float, str]  # (UTC epoch milliseconds, value, quality)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DEFAULT_MAX_POINTS = 2000


def downsample(samples: Sequence[Sample], max_points: int = DEFAULT_MAX_POINTS) -> list[Sample]:
    """At most `max_points` samples that keep every peak and trough: the span is cut into
    (max_points - 2) // 2 equal time buckets and each keeps its minimum and its maximum, in time
    order; the first and last samples stay too, so the chart spans the same time.

    A year of 15-minute values (35,040) becomes 2,000 points a screen can draw, and a one-slot spike
    still shows at its full height, which averaging would flatten.
    """
    if max_points < 4:
        raise ValueError("max_points must be at least 4")
    if len(samples) <= max_points:
        return list(samples)
    buckets = (max_points - 2) // 2
    first, last = samples[0][0], samples[-1][0]
    width = (last - first) / buckets or 1.0
    kept: list[Sample] = []
    lo = hi = samples[0]
    current = 0
    for sample in samples:
        index = min(int((sample[0] - first) / width), buckets - 1)
        if index != current:
            kept.extend(_in_order(lo, hi))
            lo = hi = sample
            current = index
            continue
        if sample[1] < lo[1]:
            lo = sample
        if sample[1] > hi[1]:
            hi = sample
    kept.extend(_in_order(lo, hi))
    if kept[0] is not samples[0]:
        kept.insert(0, samples[0])
    if kept[-1] is not samples[-1]:
        kept.append(samples[-1])
    return kept


def local_time(ms: int, zone: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone)


def _in_order(a: Sample, b: Sample) -> list[Sample]:
    if a is b:
        return [a]
    return [a, b] if a[0] <= b[0] else [b, a]


@dataclass(frozen=True)
class DayProfile:
    """Average consumption per local quarter hour of a working day and of a weekend or holiday."""

    slots: list[str]  # "00:00" ... "23:45"
    working: list[float | None]
    weekend: list[float | None]
    working_days: int  # how many distinct days went into each average
    weekend_days: int


def day_profile(samples: Sequence[Sample], zone: ZoneInfo, is_day_off: Callable[[date], bool]) -> DayProfile:
    """`is_day_off` says which days are weekend days or public holidays. On the autumn DST day the
    repeated hour's slots add to the same clock time, so that day weighs twice there."""
    slots = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)]
    index = {label: i for i, label in enumerate(slots)}
    sums = {False: [0.0] * 96, True: [0.0] * 96}
    counts = {False: [0] * 96, True: [0] * 96}
    days: dict[bool, set[date]] = {False: set(), True: set()}
    for ms, value, _quality in samples:
        local = local_time(ms, zone)
        off = is_day_off(local.date())
        i = index[f"{local.hour:02d}:{local.minute // 15 * 15:02d}"]
        sums[off][i] += value
        counts[off][i] += 1
        days[off].add(local.date())

    def averages(off: bool) -> list[float | None]:
        return [s / n if n else None for s, n in zip(sums[off], counts[off], strict=True)]

    return DayProfile(slots, averages(False), averages(True), len(days[False]), len(days[True]))


@dataclass(frozen=True)
class HeatMap:
    """Consumption per local day (rows) and hour of the day (columns)."""

    days: list[date]
    hours: list[int]  # 0 ... 23
    values: list[list[float | None]]  # values[day][hour]; None where nothing is stored


def heat_map(samples: Sequence[Sample], zone: ZoneInfo) -> HeatMap:
    """Sums per local day and hour; the repeated autumn hour adds into its clock hour."""
    cells: dict[date, list[float | None]] = {}
    for ms, value, _quality in samples:
        local = local_time(ms, zone)
        row = cells.setdefault(local.date(), [None] * 24)
        row[local.hour] = (row[local.hour] or 0.0) + value
    days = sorted(cells)
    return HeatMap(days, list(range(24)), [cells[d] for d in days])
