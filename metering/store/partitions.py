"""PostgreSQL: `readings` is range-partitioned by month of `ts` (UTC), one partition per month.

Why: at portfolio scale (hundreds of millions of rows) a month is the unit that is queried, vacuumed,
and aged out; a query for a time range reads only the months it covers, and retention rewrites a whole
month instead of deleting row by row (pg_retention.py). SQLite keeps one plain table (docs/postgresql.md).

Partitions are made ahead (the current month and the next ones, at every start) and on demand: before
a batch is inserted, each month it touches that this process has not seen yet is made if missing (a
backfill into an old month, a clock that ran past the months made ahead). There is no default
partition, so a row can never land where a later partition would have to move it out again.
Several processes may make the same month at once: a transaction-level advisory lock serialises
them and `IF NOT EXISTS` makes the loser's statement a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from metering.store.timecodec import from_ms, to_ms

PREFIX = "readings_m"  # readings_m202612: the month of December 2026
AHEAD = 2  # months made beyond the current one at every start
_LOCK_KEY = 0x6D657465  # advisory lock id ("mete"), per database: partition DDL one at a time


def month_start(ms: int) -> int:
    """The first millisecond of the UTC month holding `ms`."""
    moment = from_ms(ms)
    return to_ms(datetime(moment.year, moment.month, 1, tzinfo=UTC))


def next_month(start_ms: int) -> int:
    moment = from_ms(start_ms)
    if (moment.year, moment.month) == (9999, 12):
        return to_ms(datetime.max.replace(tzinfo=UTC)) + 1  # the last month a datetime can name
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return to_ms(datetime(year, month, 1, tzinfo=UTC))


def partition_name(start_ms: int) -> str:
    moment = from_ms(start_ms)
    return f"{PREFIX}{moment.year:04d}{moment.month:02d}"


def is_partition_name(name: str) -> bool:
    return name.startswith(PREFIX) and name[len(PREFIX) :].isdigit() and len(name) == len(PREFIX) + 6


def month_of_name(name: str) -> int:
    """The month start a partition's name stands for (`partition_name` backwards)."""
    digits = name[len(PREFIX) :]
    return to_ms(datetime(int(digits[:4]), int(digits[4:]), 1, tzinfo=UTC))


def months_ahead(now_ms: int, ahead: int = AHEAD) -> list[int]:
    """The current month's start and the `ahead` following ones."""
    months = [month_start(now_ms)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    return months


def create_partitions(conn: Connection, months: Iterable[int]) -> None:
    """Make the monthly partitions of readings starting at each of `months` (month starts) where missing.

    In the caller's transaction; the advisory lock is held until it ends."""
    wanted = sorted(set(months))
    if not wanted:
        return
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    for start in wanted:
        conn.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(start)}" PARTITION OF readings'
                f" FOR VALUES FROM ({int(start)}) TO ({int(next_month(start))})"
            )
        )


class Partitions:
    """The months this process knows to have a partition; the rest are made before a write needs them."""

    def __init__(self) -> None:
        self.known: set[int] = set()

    def clear(self) -> None:
        self.known.clear()

    def missing(self, timestamps: Sequence[int]) -> set[int]:
        """The months holding `timestamps` not known to have a partition. Cheap in the usual case of a
        batch inside one known month; exact otherwise (a batch of far-apart times makes only theirs)."""
        if not timestamps:
            return set()
        first, last = month_start(min(timestamps)), month_start(max(timestamps))
        if first == last:
            return set() if first in self.known else {first}
        if first in self.known and last in self.known and next_month(first) == last:
            return set()
        return {month_start(ms) for ms in set(timestamps)} - self.known

    def adopt(self, months: Iterable[int]) -> None:
        """Remember `months` as made (once the transaction that made them has committed)."""
        self.known.update(months)
