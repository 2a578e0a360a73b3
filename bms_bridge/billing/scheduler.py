"""Close and export billing periods by themselves, on the cron schedules of `billing_export:`.

Cron times are the site's local wall clock (`billing_export.schedule`, DST as classic cron does it).
The clock and the sleep are injected: tests move a fake clock instead of waiting. A fire that fell
while the service was stopped runs once at start when it is at most `catch_up` old; close and export
are idempotent, so running one again does no harm. A failing action is logged and becomes an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol
from zoneinfo import ZoneInfo

from billing_export.period import Period
from billing_export.schedule import next_fire, period_for, previous_fire
from bms_bridge.tasks import cancel_and_wait
from metering.clock import Clock
from metering.events import Event
from point_mapping.model.billing_export import BillingExportSettings, BillingSchedule

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
FAILED_KIND = "billing-schedule-failed"


class BillingActions(Protocol):
    async def close(self, period: Period) -> None: ...

    async def export(self, period: Period, format: str) -> None: ...


@dataclass(frozen=True)
class Fire:
    at: datetime
    index: int  # position in `schedules`: same-time fires run in the order they are written
    schedule: BillingSchedule
    period: Period


class BillingScheduler:
    def __init__(
        self,
        settings: BillingExportSettings,
        zone: ZoneInfo,
        actions: BillingActions,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        add_event: Callable[[Event], Awaitable[int]] | None = None,
        max_sleep: timedelta = timedelta(minutes=1),
    ) -> None:
        self.settings = settings
        self.zone = zone
        self._actions = actions
        self._clock = clock
        self._sleep = sleep
        self._add_event = add_event
        # wake up now and then even for a far fire: a wall clock set forward must not be slept through
        self._max_sleep = max_sleep
        self._checked: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self.ran: deque[Fire] = deque(maxlen=100)  # the latest fires that ran, in order (status and tests)

    def _fire(self, index: int, at: datetime) -> Fire:
        schedule = self.settings.schedules[index]
        return Fire(at, index, schedule, period_for(schedule.period, at, self.zone))

    def fires_between(self, start: datetime, end: datetime) -> list[Fire]:
        """Every fire in (start, end], by time, then by order in the YAML."""
        fires: list[Fire] = []
        for index, schedule in enumerate(self.settings.schedules):
            at = next_fire(schedule.cron, self.zone, start)
            while at <= end:
                fires.append(self._fire(index, at))
                at = next_fire(schedule.cron, self.zone, at)
        return sorted(fires, key=lambda f: (f.at, f.index))

    def next_fire(self, after: datetime) -> datetime | None:
        times = [next_fire(s.cron, self.zone, after) for s in self.settings.schedules]
        return min(times, default=None)

    async def start(self, now: datetime) -> list[Fire]:
        """Run the latest missed fire of each schedule if it is at most `catch_up` old; then watch from `now`."""
        missed = []
        for index, schedule in enumerate(self.settings.schedules):
            at = previous_fire(schedule.cron, self.zone, now)
            if now - at <= self.settings.catch_up:
                missed.append(self._fire(index, at))
        self._checked = now
        return await self._run_fires(sorted(missed, key=lambda f: (f.at, f.index)))

    async def run_due(self, now: datetime) -> list[Fire]:
        """Run every fire since the last check up to `now` (each once, however late we look)."""
        if self._checked is None:
            return await self.start(now)
        fires = self.fires_between(self._checked, now) if now > self._checked else []
        self._checked = max(self._checked, now)
        return await self._run_fires(fires)

    async def _run_fires(self, fires: list[Fire]) -> list[Fire]:
        for fire in fires:
            log.info(
                "billing schedule %d: %s %s (cron %r)",
                fire.index,
                fire.schedule.action,
                fire.period,
                fire.schedule.cron,
            )
            try:
                if fire.schedule.action == "close":
                    await self._actions.close(fire.period)
                else:
                    await self._actions.export(fire.period, fire.schedule.format)
            except Exception as exc:
                log.exception("billing schedule %d failed for %s", fire.index, fire.period)
                await self._report_failure(fire, exc)
            self.ran.append(fire)
        return fires

    async def _report_failure(self, fire: Fire, exc: Exception) -> None:
        if self._add_event is None:
            return
        event = Event(
            kind=FAILED_KIND,
            subject=str(fire.period),
            severity="alarm",
            started_at=fire.at,
            title=f"scheduled {fire.schedule.action} of {fire.period} failed: {exc}",
            dedup_key=f"{FAILED_KIND}:{fire.index}:{fire.at.isoformat()}",
            details={"cron": fire.schedule.cron, "action": fire.schedule.action, "error": str(exc)},
        )
        try:
            await self._add_event(event)
        except Exception:
            log.exception("could not store the failure event")

    # -- as a background task ----------------------------------------------------------------------

    async def __aenter__(self) -> BillingScheduler:
        self._task = asyncio.create_task(self._run(), name="billing-schedules")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            now = self._clock()
            await self.run_due(now)
            upcoming = self.next_fire(now)
            wait = self._max_sleep if upcoming is None else min(upcoming - now, self._max_sleep)
            await self._sleep(max(wait.total_seconds(), 0.0))
