"""Aware datetimes <-> integer UTC epoch milliseconds, the one timestamp form in every table.

An integer compares, indexes and sorts the same on SQLite and PostgreSQL, costs 8 bytes or less, and
cannot be silently re-interpreted in a session time zone the way TIMESTAMP columns can.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; any aware zone accepted, sub-millisecond digits floored."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} cannot be stored; give it a time zone")
    # integer arithmetic: float timestamps lose microseconds far from the epoch
    return (moment - EPOCH) // _MS


def to_ms_many(moments: Iterable[datetime]) -> list[int]:
    """`to_ms` of each, for a batch: the same numbers, and the same error for a naive datetime."""
    given = list(moments)
    try:
        return [(moment - EPOCH) // _MS for moment in given]
    except TypeError:  # naive minus aware: let to_ms say which one and why
        return [to_ms(moment) for moment in given]


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime for a stored millisecond count."""
    return EPOCH + timedelta(milliseconds=ms)


def opt_to_ms(moment: datetime | None) -> int | None:
    return None if moment is None else to_ms(moment)


def opt_from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)
