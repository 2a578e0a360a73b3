"""The one clock type: every component takes a `Clock` so tests move time instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, timezone-aware in UTC; the default of every `clock=` parameter."""
    return datetime.now(UTC)
