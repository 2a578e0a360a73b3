"""Energy wasted by a conflict: consumption above a baseline of comparable non-conflict hours.

For each hour in conflict the baseline is the mean consumption of the hours that are alike (same
local hour of day, same kind of day: `key`) within `window` either side and not in conflict
themselves. Waste is the sum of the excess over that baseline (never negative); an hour with no
comparable hour has no baseline and adds nothing, so the estimate errs low. Consumption is always a
difference of meter registers (hourly deltas), never a sum of sampled power.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class HourWaste:
    hour: datetime
    actual: float
    baseline: float

    @property
    def excess(self) -> float:
        return max(0.0, self.actual - self.baseline)


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def conflict_hours(fault_times: list[datetime] | tuple[datetime, ...], step: timedelta) -> set[datetime]:
    """Hours (UTC starts) touched by the instants a rule was in fault, each instant covering `step`."""
    hours: set[datetime] = set()
    for t in fault_times:
        hours.add(hour_start(t))
        hours.add(hour_start(t + step - timedelta(microseconds=1)))
    return hours


def wasted(
    hourly: Mapping[datetime, float],
    in_conflict: Set[datetime],
    key: Callable[[datetime], Hashable],
    window: timedelta = timedelta(days=14),
) -> list[HourWaste]:
    """Per conflict hour present in `hourly`: its consumption and the baseline of comparable hours."""
    by_key: dict[Hashable, list[tuple[datetime, float]]] = {}
    for hour, value in hourly.items():
        if hour not in in_conflict:
            by_key.setdefault(key(hour), []).append((hour, value))
    found: list[HourWaste] = []
    for hour in sorted(in_conflict):
        actual = hourly.get(hour)
        if actual is None:
            continue
        alike = [v for h, v in by_key.get(key(hour), ()) if abs(h - hour) <= window]
        if alike:
            found.append(HourWaste(hour, actual, sum(alike) / len(alike)))
    return found


def priced(hours: list[HourWaste], price: Callable[[datetime], Decimal | None]) -> Decimal | None:
    """The cost of the excess at the tariff price in force each hour, to the cent; None without a price."""
    total = Decimal(0)
    for h in hours:
        unit_price = price(h.hour)
        if unit_price is None:
            return None
        total += Decimal(repr(round(h.excess, 6))) * unit_price
    return total.quantize(CENT, rounding=ROUND_HALF_EVEN)
