"""The running service for one site: acquisition → store → exposure, as one `async with` lifecycle.

readings: Modbus pollers / LPWAN intake ─┬─> ReadingWriter (one writer, batched) ─> store
                                         └─> ExposureFeed ─> BACnet server, OPC UA server
device health ─> store + ExposureFeed (status flags)
every few minutes: 15-minute intervals recomputed from readings; exposed points re-checked for age
billing_export: the outbox delivered to the billing system; close/export on their cron schedules
every hour: the anomaly rules over the stored intervals (leaks, after-hours load, meter health)
every status refresh: stored HVAC findings and anomalies → one BACnet/OPC UA flag per rule and subject
every 15 minutes (exposure.month_to_date): tenants' month-to-date consumption and cost to the BMS
every six hours: this month's forecasts, days outside their prediction interval as events (docs/savings.md)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bms_bridge.exposure.build import devices_of_points, exposed_points, stale_thresholds
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.findings import FindingsExposure
from bms_bridge.exposure.history import PointHistory, StoreTrends
from bms_bridge.exposure.points import ExposedPoint, PointValue
from bms_bridge.exposure.settings import bacnet_settings, opcua_settings
from bms_bridge.health_recorder import HealthRecorder
from bms_bridge.modbus.acquisition import ModbusAcquisition
from bms_bridge.tasks import cancel_and_wait
from metering.clock import Clock, utc_now
from metering.consumption import refresh_dirty
from metering.health import DeviceHealth
from metering.live_virtual import live_totals
from metering.log_context import site_var
from metering.readings import Reading
from metering.store import ConsumptionStore, ReadingWriter, Store
from metering.store.retention import prune_readings
from metering.store.writer import StoreFailing
from point_mapping.loader import LoadedSite
from point_mapping.model import SiteModel

if TYPE_CHECKING:
    from bms_bridge.billing.wiring import BillingHooks
    from bms_bridge.simulate.load_model import LoadModel

log = logging.getLogger(__name__)


@dataclass
class ServiceOptions:
    simulate: bool = False
    simulation_model: LoadModel | None = None  # shared with the history fill: warming it up is costly
    interval_refresh: timedelta = timedelta(minutes=5)
    status_refresh: timedelta = timedelta(seconds=30)
    clock: Clock = field(default=utc_now)
    billing: BillingHooks | None = None  # what the billing schedules close and export (statement storage)


class ReadingHub:
    """Every reading goes to the one writer and to the exposure feed."""

    def __init__(self, writer: ReadingWriter, feed: ExposureFeed) -> None:
        self._writer = writer
        self._feed = feed
        self.received = 0  # readings handed on (polls, uplinks): for the metrics

    async def put(self, reading: Reading) -> None:
        await self.put_many([reading])

    async def put_many(self, readings: list[Reading]) -> None:
        await self._writer.put_many(readings)
        await self._feed.on_readings(readings)
        self.received += len(readings)

    def stats(self) -> dict[str, float]:
        """Counters for /metrics, read at scrape time."""
        writer = self._writer
        return {
            "readings_received": self.received,
            "readings_written": writer.written,
            "readings_duplicate": writer.duplicates,
            "writer_queue": writer.queued,
            "writer_failed_attempts": writer.failed_attempts,
            **writer.health(),  # store state, readings buffered in memory and journal, journal bytes
        }

    async def flush(self) -> None:
        """Wait until the writer has committed everything put so far (LPWAN answers 2xx after this);
        while the database fails, raise at once (LPWAN answers 503: the network server redelivers)."""
        await self._writer.flush(unless_failing=True)


class Service:
    def __init__(self, site: LoadedSite, db_url: str, options: ServiceOptions | None = None) -> None:
        self.site = site
        self.db_url = db_url
        self.options = options or ServiceOptions()
        self.store: Store | None = None
        self.feed: ExposureFeed | None = None
        self.findings: FindingsExposure | None = None  # open findings as BACnet/OPC UA objects

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Service]:
        model, clock = self.site.model, self.options.clock
        # every task started below inherits the site: each log line names it (docs/operations.md)
        site_token = site_var.set(model.site.id)
        try:
            async with self._running(model, clock) as running:
                yield running
        finally:
            with contextlib.suppress(ValueError):  # left in another task (a test fixture's teardown)
                site_var.reset(site_token)

    @contextlib.asynccontextmanager
    async def _running(self, model: SiteModel, clock: Clock) -> AsyncIterator[Service]:
        async with contextlib.AsyncExitStack() as stack:
            store = await stack.enter_async_context(Store.open(self.db_url))
            self.store = store
            acquisition = model.acquisition
            writer = await stack.enter_async_context(
                ReadingWriter(
                    store,
                    queue_size=acquisition.queue_size,
                    # while the database fails: memory, then this journal (docs/operations.md)
                    journal=self.site.state_dir / "reading-journal",
                    legacy_journal=self.site.state_dir / "unwritten-readings.jsonl",  # earlier versions' stop file
                    buffer_readings=acquisition.buffer_readings,
                    journal_max_bytes=acquisition.journal_max_bytes,
                )
            )
            # Runs after acquisition, intake and timers have stopped: the last readings' intervals are
            # computed before the process ends, so a stopped site verifies clean.
            stack.push_async_callback(self._final_refresh, writer, store)
            points = exposed_points(self.site, clock().astimezone(model.site.zone).date())
            results = None
            if model.exposure.month_to_date:  # tenants' month so far, beside their meter points
                from bms_bridge.billing.results import MonthToDateResults

                results = MonthToDateResults(self.site, clock)
                points += results.points
            feed = ExposureFeed(
                points,
                devices_of_points(self.site),
                model.exposure.stale_after,
                clock,
                virtual=await live_totals(self.site, store),
                stale_after_of=stale_thresholds(self.site),
            )
            self.feed = feed
            self.findings = FindingsExposure(self.site, clock)
            await self._start_exposure(stack, store, feed, points)
            await self._seed_feed(store, feed)
            hub = ReadingHub(writer, feed)
            health = await stack.enter_async_context(HealthRecorder(store))  # saved after the pollers stop

            async def on_health(state: DeviceHealth) -> None:
                # the BMS first; the store from the recorder's one task (bms_bridge/health_recorder.py)
                await feed.on_health(state)
                health.record(state)

            simulation = self._simulation_model()
            if simulation is not None:
                from bms_bridge.simulate.modbus_servers import SimulatedMeters

                await stack.enter_async_context(SimulatedMeters(self.site, clock=clock, model=simulation))
            await stack.enter_async_context(ModbusAcquisition(self.site, hub.put, on_health, clock))
            await self._start_bms(stack, store, on_health, simulate=simulation is not None)
            await self._start_lpwan(stack, store, hub)
            await self._start_web(stack, store, hub)
            if simulation is not None and model.lpwan.webhook is not None and model.lpwan.webhook.enabled:
                from bms_bridge.simulate.lpwan_sender import SimulatedLpwan

                await stack.enter_async_context(SimulatedLpwan(self.site, simulation, clock))
            if model.billing_export is not None:
                from bms_bridge.billing.wiring import billing_running

                await stack.enter_async_context(billing_running(self.site, store, clock, self.options.billing))
            tasks = [
                asyncio.create_task(self._every(self.options.status_refresh, feed.refresh), name="status-refresh"),
                asyncio.create_task(
                    self._every(self.options.interval_refresh, lambda: self._refresh_intervals(writer, store)),
                    name="interval-refresh",
                ),
            ]
            if model.anomalies.enabled:
                tasks.append(
                    asyncio.create_task(
                        self._every(model.anomalies.refresh, lambda: self._refresh_anomalies(store)), name="anomalies"
                    )
                )
            if self.findings is not None and self.findings.has_targets:
                findings = self.findings
                await self._every_once(lambda: findings.refresh_from(store))
                tasks.append(
                    asyncio.create_task(
                        self._every(self.options.status_refresh, lambda: findings.refresh_from(store)),
                        name="findings-exposure",
                    )
                )
            if results is not None:
                every = model.exposure.month_to_date_refresh
                tasks.append(asyncio.create_task(results.run(store, feed, every), name="month-to-date"))
            if model.savings.forecast_refresh is not None:
                forecasts = self._every(model.savings.forecast_refresh, lambda: self._forecasts(store))
                tasks.append(asyncio.create_task(forecasts, name="forecasts"))
            keep_days = model.storage.raw_readings_days
            if keep_days is not None:  # docs/operations.md, Retention
                retention = self._every(
                    model.storage.retention_check, lambda: prune_readings(store, keep_days, self.options.clock())
                )
                tasks.append(asyncio.create_task(retention, name="retention"))
            stack.push_async_callback(cancel_and_wait, *tasks)
            yield self

    def _simulation_model(self) -> LoadModel | None:
        if not self.options.simulate:
            return None
        from bms_bridge.simulate.load_model import LoadModel

        return self.options.simulation_model or LoadModel(self.site.model)

    async def _start_exposure(
        self, stack: contextlib.AsyncExitStack, store: Store, feed: ExposureFeed, points: list[ExposedPoint]
    ) -> None:
        exposure, model = self.site.model.exposure, self.site.model
        if exposure.bacnet is not None and exposure.bacnet.enabled:
            from bms_bridge.bacnet.server import BacnetServer

            bacnet = await stack.enter_async_context(
                BacnetServer(bacnet_settings(exposure.bacnet, model.site.name), points, trends=StoreTrends(store))
            )

            async def to_bacnet(values: list[PointValue]) -> None:
                bacnet.update_many(values)

            feed.add_sink(to_bacnet)
            if self.findings is not None:

                async def add_to_bacnet(new: list[ExposedPoint]) -> None:
                    bacnet.add_points(new)

                self.findings.add_target(add_to_bacnet, to_bacnet)
        if exposure.opcua is not None and exposure.opcua.enabled:
            from bms_bridge.opcua.server import OpcUaServer

            virtual = [p.id for p in model.points if p.is_virtual]
            history = PointHistory(store, feed.value_of, virtual)  # readings; virtual points: intervals
            opcua = await stack.enter_async_context(
                OpcUaServer(opcua_settings(exposure.opcua, self.site.folder), points, history=history.read)
            )
            feed.add_sink(opcua.update_many)
            if self.findings is not None:
                self.findings.add_target(opcua.add_points, opcua.update_many)

    async def _start_bms(
        self,
        stack: contextlib.AsyncExitStack,
        store: Store,
        on_health: Callable[[DeviceHealth], Awaitable[None]],
        *,
        simulate: bool,
    ) -> None:
        """Read the BMS back (issue 9): the simulated controller first when simulating."""
        model = self.site.model
        if not model.bms_devices or not model.bms_client.enabled:
            return
        if simulate:
            from bms_bridge.simulate.bms_process import SimulatedBmsProcess

            await stack.enter_async_context(SimulatedBmsProcess(self.site.folder))
        from bms_bridge.bms_client.acquisition import BmsAcquisition

        await stack.enter_async_context(BmsAcquisition(self.site, store, on_health, self.options.clock))

    async def _start_lpwan(self, stack: contextlib.AsyncExitStack, store: Store, hub: ReadingHub) -> None:
        lpwan = self.site.model.lpwan
        if lpwan.webhook is None and lpwan.mqtt is None:
            return
        from bms_bridge.lpwan.intake import UplinkIntake

        intake = UplinkIntake(self.site, store, hub, clock=self.options.clock)
        if lpwan.webhook is not None and lpwan.webhook.enabled:
            from bms_bridge.lpwan.webhook import LpwanWebhook

            await stack.enter_async_context(LpwanWebhook(intake))
        if lpwan.mqtt is not None and lpwan.mqtt.enabled:
            from bms_bridge.lpwan.mqtt import LpwanMqtt

            await stack.enter_async_context(LpwanMqtt(intake))

    async def _start_web(self, stack: contextlib.AsyncExitStack, store: Store, hub: ReadingHub) -> None:
        """The web app and API (issue 11), for a site whose YAML has a `web:` section."""
        model = self.site.model
        if "web" not in model.model_fields_set or not model.web.enabled:
            return
        from bms_bridge.web.server import WebServer

        await stack.enter_async_context(WebServer(self.site, store, self.options.clock, service_stats=hub.stats))

    @staticmethod
    async def _seed_feed(store: Store, feed: ExposureFeed) -> None:
        """Start from the last stored values so the BMS sees numbers (flagged stale) before the first poll."""
        await feed.on_readings(list((await store.last_readings()).values()))

    async def _refresh_intervals(self, writer: ReadingWriter, store: Store) -> bool:
        """Recompute the dirty spans' intervals; False: skipped, the database is failing.

        While it fails there is nothing to recompute from, so the round is skipped at once rather than
        waiting for the database (at stop that wait would never end). The writer has logged the outage;
        the spans stay marked, and the first refresh after it catches up."""
        try:
            await writer.flush(unless_failing=True)
        except StoreFailing:
            log.debug("interval refresh skipped: the database is failing")
            return False
        # Exactly the slots that new, late or backfilled readings can change (dirty spans).
        count = await refresh_dirty(self.site, ConsumptionStore(store))
        log.info("recomputed %d intervals", count)
        return True

    async def _final_refresh(self, writer: ReadingWriter, store: Store) -> None:
        try:
            done = await self._refresh_intervals(writer, store)
        except Exception as exc:  # the spans stay marked: the next start recomputes them
            log.warning("intervals not recomputed at stop (%s); the next start does it", exc)
            return
        if not done:
            log.warning("intervals not recomputed at stop: the database is failing; the next start does it")

    async def _refresh_anomalies(self, store: Store) -> None:
        from bms_bridge.anomalies import refresh_anomalies

        now = self.options.clock()
        await refresh_anomalies(self.site, store, now - self.site.model.anomalies.lookback, now)

    async def _forecasts(self, store: Store) -> None:
        from bms_bridge.savings.forecasts import record_forecasts

        today = self.options.clock().astimezone(self.site.model.site.zone).date()
        await record_forecasts(self.site, store, today)

    @staticmethod
    async def _every_once(action: Callable[[], Awaitable[object]]) -> None:
        try:
            await action()
        except Exception:
            log.exception("first run of a periodic task failed; will retry")

    @staticmethod
    async def _every(period: timedelta, action: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(period.total_seconds())
            try:
                result = action()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("periodic task failed; will retry")
