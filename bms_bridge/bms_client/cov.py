"""COV subscriptions (SubscribeCOV, clause 13.14) kept alive on an injected clock.

A subscription with a lifetime lapses at the device when it is not renewed; we renew once
`RENEW_AT` of the lifetime has passed, so one lost renewal still leaves time for the next poll cycle
to try again. The clock is injected: tests move it instead of waiting for minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

RENEW_AT = 0.75


@dataclass
class Subscription:
    point_id: str
    process_id: int
    lifetime: timedelta
    subscribed_at: datetime | None = None  # None: not (yet) accepted by the device
    renewals: int = 0
    refused: str | None = None  # the device's error: the point is polled instead

    def due(self, now: datetime) -> bool:
        if self.refused is not None:
            return False
        if self.subscribed_at is None:
            return True
        return now >= self.subscribed_at + self.lifetime * RENEW_AT

    @property
    def active(self) -> bool:
        return self.subscribed_at is not None and self.refused is None

    def expires(self) -> datetime | None:
        return None if self.subscribed_at is None else self.subscribed_at + self.lifetime


class CovBook:
    """Which points are subscribed, since when, and which are due for (re)subscription."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._by_point: dict[str, Subscription] = {}
        self._next_pid = 1

    def want(self, point_id: str, lifetime: timedelta) -> Subscription:
        found = self._by_point.get(point_id)
        if found is None:
            found = self._by_point[point_id] = Subscription(point_id, self._next_pid, lifetime)
            self._next_pid += 1
        return found

    def due(self) -> list[Subscription]:
        now = self._clock()
        return [s for s in self._by_point.values() if s.due(now)]

    def accepted(self, sub: Subscription) -> None:
        if sub.subscribed_at is not None:
            sub.renewals += 1
        sub.subscribed_at = self._clock()

    def lapsed(self, now: datetime) -> list[Subscription]:
        """Subscriptions whose lifetime has passed without a renewal: the device no longer sends COV."""
        return [s for s in self._by_point.values() if s.active and (s.expires() or now) <= now]

    def covered(self) -> set[str]:
        """Points whose values arrive by COV and need no polling now."""
        now = self._clock()
        return {p for p, s in self._by_point.items() if s.active and (s.expires() or now) > now}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_point.values())
