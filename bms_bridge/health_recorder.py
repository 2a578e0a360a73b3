"""Device health into the store from one task, one save at a time, the newest state per device.

Every poller reports its device's health after every cycle. Saved by each poller itself, a round of a
few hundred meters asked the store for as many connections at once: on SQLite the pool opened (and
closed again) its overflow connections every round, each with its own thread and page cache, which
fragmented the heap (the 5,000-point soak grew 1-2 MiB a round, docs/performance.md) and, on a busy
machine, ran into the pool's limit and the write lock's timeout. Here a report only replaces the
device's pending state; one task stores what is pending, so the store sees one connection for
health, and a device that reports twice before its save is stored once, with its newest state.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from bms_bridge.tasks import cancel_and_wait
from metering.failure_log import FailureLog
from metering.health import DeviceHealth
from metering.store import Store

log = logging.getLogger(__name__)

RETRY_S = 1.0  # after a failed save: the pending states wait, newer reports replace them


class HealthRecorder:
    """`async with HealthRecorder(store) as recorder: recorder.record(health)`; what is pending at
    exit is saved then."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[str, DeviceHealth] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures = FailureLog(log, "storing device health")
        self.saved = 0

    def record(self, health: DeviceHealth) -> None:
        self._pending[health.device_id] = health
        self._wake.set()

    async def __aenter__(self) -> HealthRecorder:
        self._task = asyncio.create_task(self._run(), name="health-recorder")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self._save_pending()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not await self._save_pending():
                await asyncio.sleep(RETRY_S)
                self._wake.set()

    async def _save_pending(self) -> bool:
        while self._pending:
            device_id, health = next(iter(self._pending.items()))
            try:
                await self._store.save_health(health)
            except Exception as error:  # the database is away: keep it (unless a newer one comes)
                self._failures.failed(error)
                return False
            if self._pending.get(device_id) is health:
                del self._pending[device_id]
            self.saved += 1
            self._failures.succeeded()
        return True
