"""A billing period (a calendar month in the site's zone) and the spans contracts occupy in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from point_mapping.model.tenants import Contract

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    year: int
    month: int
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> Period:
        match = _PERIOD.match(text)
        if match is None:
            raise ValueError(f"period {text!r} is not YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)), zone)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def days(self) -> int:
        return (self.next_first_day - self.first_day).days

    @property
    def start(self) -> datetime:
        """Local midnight of the 1st, as an aware UTC instant."""
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.next_first_day, self.zone)

    def following(self) -> Period:
        return Period(self.next_first_day.year, self.next_first_day.month, self.zone)

    def previous(self) -> Period:
        before = self.first_day - timedelta(days=1)
        return Period(before.year, before.month, self.zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def occupancy(contract: Contract, period: Period) -> tuple[datetime, datetime] | None:
    """[move-in, move-out) of `contract` clipped to `period`, as UTC instants; None if not in force."""
    zone = period.zone
    moved_in = datetime.combine(contract.start, contract.move_in or time(0), tzinfo=zone).astimezone(UTC)
    if contract.end is None:
        moved_out = period.end
    elif contract.move_out is None:
        moved_out = local_midnight(contract.end + timedelta(days=1), zone)
    else:
        moved_out = datetime.combine(contract.end, contract.move_out, tzinfo=zone).astimezone(UTC)
    start, end = max(moved_in, period.start), min(moved_out, period.end)
    return (start, end) if start < end else None


def occupied_days(span: tuple[datetime, datetime], period: Period) -> Decimal:
    """Days of `period` inside `span`, each local day counting by the part of its own length covered.

    A DST day is 23 or 25 hours long; half of it is still half a day.
    """
    total = Decimal(0)
    day = period.first_day
    while day < period.next_first_day:
        day_start, day_end = local_midnight(day, period.zone), local_midnight(day + timedelta(days=1), period.zone)
        covered = min(span[1], day_end) - max(span[0], day_start)
        if covered > timedelta(0):
            total += Decimal(int(covered.total_seconds())) / Decimal(int((day_end - day_start).total_seconds()))
        day += timedelta(days=1)
    return total
