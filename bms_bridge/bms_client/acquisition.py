"""The BMS side of the running service: poll and subscribe, store trends and schedules, judge the rules.

One task per concern: a poll loop (every device's poll interval; COV kept alive on the same clock),
an hourly Schedule/Calendar read, and a findings refresh over the last two days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import TracebackType

from bms_bridge.bms_client.client import BmsClient
from bms_bridge.tasks import cancel_and_wait
from metering.clock import Clock, utc_now
from metering.health import DeviceHealth
from metering.hvac.schedule import schedule_to_json
from metering.store import Store
from metering.trends import TrendSample
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

HealthSink = Callable[[DeviceHealth], Awaitable[None]]
FINDINGS_LOOKBACK = timedelta(days=2)


class BmsAcquisition:
    def __init__(self, site: LoadedSite, store: Store, health_sink: HealthSink, clock: Clock = utc_now) -> None:
        self.site, self.store, self.health_sink, self.clock = site, store, health_sink, clock
        self.client: BmsClient | None = None
        self._stack = contextlib.AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> BmsAcquisition:
        model = self.site.model
        client = BmsClient(model, model.bms_client.address, self._store_trends, self.health_sink, self.clock)
        self.client = await self._stack.enter_async_context(client)
        interval = min(d.poll_interval for d in model.bms_devices)
        settings = model.bms_client
        self._tasks = [
            asyncio.create_task(self._every(interval, self._poll), name="bms-poll"),
            asyncio.create_task(self._every(settings.schedule_refresh, self._schedules), name="bms-schedules"),
            asyncio.create_task(self._every(settings.findings_refresh, self._findings, first_delay=True), name="hvac"),
        ]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(*self._tasks)
        await self._stack.aclose()

    async def _store_trends(self, samples: list[TrendSample]) -> None:
        await self.store.insert_trends(samples)

    async def _poll(self) -> None:
        assert self.client is not None
        await self.client.maintain_cov()
        await self.client.poll_once()

    async def _schedules(self) -> None:
        assert self.client is not None
        for point_id, schedule in (await self.client.read_schedules()).items():
            await self.store.save_schedule(point_id, self.clock(), schedule_to_json(schedule))

    async def _findings(self) -> None:
        from bms_bridge.hvac.findings import refresh_findings

        now = self.clock()
        await refresh_findings(self.site, self.store, now - FINDINGS_LOOKBACK, now)

    async def _every(self, period: timedelta, action: Callable[[], Awaitable[None]], first_delay: bool = False) -> None:
        if first_delay:
            await asyncio.sleep(period.total_seconds())
        while True:
            try:
                await action()
            except Exception:
                log.exception("BMS task failed; will retry")
            except BaseException as error:  # bacpypes3's ErrorRejectAbortNack derives from BaseException
                if isinstance(error, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                    raise
                log.warning("BMS task: %s; will retry", error)
            await asyncio.sleep(period.total_seconds())
