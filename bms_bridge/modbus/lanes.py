"""Bounds on concurrent requests: one frame at a time per serial bus, a few in flight per TCP host.

Both count what passes through them (`in_flight`, `peak_in_flight`, `requests`) so tests and status pages
can see the bound hold. A turn is `async with lane.turn():`; the lane is its own context manager, so
a request costs no generator-based context manager on the hot path.
"""

from __future__ import annotations

import asyncio
from typing import Self


class _Counted:
    def __init__(self) -> None:
        self.in_flight = 0
        self.peak_in_flight = 0
        self.requests = 0

    def _enter(self) -> None:
        self.in_flight += 1
        self.requests += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _leave(self) -> None:
        self.in_flight -= 1


class BusLane(_Counted):
    """A serial bus (RS-485 line, RTU-over-TCP tunnel, TCP-to-RTU gateway): one request at a time.

    RTU has no transaction ids: a second master frame before the answer to the first corrupts both.
    After each answer the lane stays held for `frame_gap` seconds, the silence some devices need
    beyond the 3.5 character times of Modbus over Serial Line v1.02 §2.5.1.1.
    """

    def __init__(self, bus_id: str, frame_gap: float) -> None:
        super().__init__()
        self.bus_id = bus_id
        self.frame_gap = frame_gap
        self._lock = asyncio.Lock()

    def turn(self) -> Self:
        return self

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        self._enter()

    async def __aexit__(self, *_: object) -> None:
        self._leave()
        try:
            if self.frame_gap > 0:
                await asyncio.sleep(self.frame_gap)
        finally:
            self._lock.release()


class HostLane(_Counted):
    """A TCP host: at most `max_in_flight` requests at once, however many devices it serves.

    Small meters and gateways accept only a few connections and queue or drop the rest.
    """

    def __init__(self, host: str, max_in_flight: int) -> None:
        super().__init__()
        self.host = host
        self.max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)

    def turn(self) -> Self:
        return self

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        self._enter()

    async def __aexit__(self, *_: object) -> None:
        self._leave()
        self._slots.release()
