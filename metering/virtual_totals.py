"""A virtual point's running total over time, rebuilt from its 15-minute intervals.

A virtual point (common areas = main − Σ tenants) has no register of its own: live, the BMS sees
Σ coefficient × input total; stored, it has consumption per 15-minute interval. A trend of the live
total needs totals at past instants, which only the intervals give. The totals are anchored on the live
value so that the history joins the live value without a jump: the total at the end `e` of an interval
is the live value minus the consumption of every stored interval ending after `e` and no later than the
live value's time. Slots the pipeline could not compute (an input missing) are not subtracted, so a
gap shifts the totals before it by what it hid; `verify` and the interval qualities say where.
Without a live value the totals start from zero at the first stored interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.intervals import SLOT
from metering.readings import Interval


def running_totals(
    intervals: Sequence[Interval], anchor: tuple[datetime, float] | None
) -> list[tuple[datetime, float]]:
    """(interval end, total at that instant) for each interval, oldest first.

    With an anchor (the live value's time and value) `intervals` must run up to the anchor's time; ends
    after it are dropped. Without one, `intervals` must start at the point's first stored interval.
    """
    ordered = sorted(intervals, key=lambda i: i.start)
    if anchor is None:
        totals, running = [], 0.0
        for interval in ordered:
            running += interval.value
            totals.append((interval.start + SLOT, running))
        return totals
    at, value = anchor
    kept = [i for i in ordered if i.start + SLOT <= at]
    totals = []
    running = value
    for interval in reversed(kept):
        totals.append((interval.start + SLOT, running))
        running -= interval.value
    totals.reverse()
    return totals
