"""Login rate limit: after N failed logins for one (client address, user name) within a window,
further attempts are refused until the oldest failure leaves the window. A looser cap per address
alone stops one client from trying many names."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from metering.clock import Clock

PER_ADDRESS_FACTOR = 4  # failures per address, over all names, before it is refused as well
MAX_TRACKED = 10_000  # keys remembered at most; the oldest are forgotten first


class LoginLimiter:
    def __init__(self, clock: Clock, max_failures: int, window: timedelta) -> None:
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self._clock = clock
        self._max = max_failures
        self._window = window
        self._failures: dict[tuple[str, str | None], deque[datetime]] = {}

    def _keys(self, address: str, name: str) -> list[tuple[tuple[str, str | None], int]]:
        return [((address, name.casefold()), self._max), ((address, None), self._max * PER_ADDRESS_FACTOR)]

    def retry_after(self, address: str, name: str) -> timedelta | None:
        """None when an attempt may be made now; otherwise how long to wait."""
        now = self._clock()
        waits = []
        for key, limit in self._keys(address, name):
            times = self._failures.get(key)
            if times is None:
                continue
            while times and now - times[0] >= self._window:
                times.popleft()
            if len(times) >= limit:
                waits.append(times[0] + self._window - now)
        return max(waits) if waits else None

    def failed(self, address: str, name: str) -> None:
        now = self._clock()
        for key, _limit in self._keys(address, name):
            self._failures.setdefault(key, deque()).append(now)
        while len(self._failures) > MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, address: str, name: str) -> None:
        self._failures.pop((address, name.casefold()), None)
