"""The BMS client: one bacpypes3 Application, one reader per controller, trends to a sink.

    async with BmsClient(site, "127.0.0.1/8:47820", sink, health_sink, clock) as client:
        samples = await client.poll_once()            # every point not covered by COV, by RPM
        await client.maintain_cov()                   # (re)subscribe what is due on the clock
        schedules = await client.read_schedules()     # Schedule + Calendar objects → domain values

Per controller: limits from its Device object (Max_APDU_Length_Accepted, Segmentation_Supported) unless
the YAML overrides them; at most `max_requests_in_flight` requests at once; each request times out after
`timeout`; a controller that does not answer is backed off (doubling up to `BACKOFF_MAX`) and health
says so, like the Modbus side.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from bacpypes3.apdu import (
    AbortPDU,
    ErrorRejectAbortNack,
    SimpleAckPDU,
    SubscribeCOVRequest,
)
from bacpypes3.app import Application
from bacpypes3.basetypes import ErrorType, Segmentation
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from bms_bridge.bms_client.chunking import DeviceLimits, chunks
from bms_bridge.bms_client.cov import CovBook, Subscription
from bms_bridge.bms_client.decode import calendar_dates, schedule, trend_kind, trend_value
from metering.clock import Clock, utc_now
from metering.health import DeviceHealth, after_attempt, backoff_delay
from metering.hvac.schedule import OccupancySchedule
from metering.trends import TrendKind, TrendSample
from point_mapping.model import SiteModel
from point_mapping.model.bms import BmsDevice, BmsPoint

log = logging.getLogger(__name__)

TrendSink = Callable[[list[TrendSample]], Awaitable[None]]
HealthSink = Callable[[DeviceHealth], Awaitable[None]]

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 600.0
OUR_MAX_APDU = 1476  # Annex J: one BACnet/IP datagram
SHRINKING_ABORTS = {"segmentation-not-supported", "buffer-overflow", "apdu-too-long"}


class BmsClientError(RuntimeError):
    """The client could not start (its UDP port is taken)."""


def local_application(address: str, device_instance: int, name: str) -> Any:
    """Our own BACnet/IP device on `address` ('HOST/MASK:PORT'); a taken port is a `BmsClientError`."""
    host, port = address.split("/")[0].rsplit(":", 1)[0], int(address.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise BmsClientError(f"cannot bind a BACnet client to {address}: {error}") from error
    device = DeviceObject(
        objectIdentifier=("device", device_instance),
        objectName=name,
        vendorIdentifier=999,
        maxApduLengthAccepted=OUR_MAX_APDU,
        segmentationSupported=Segmentation.segmentedBoth,
    )
    port_object = NetworkPortObject(address, objectIdentifier=("network-port", 1), objectName="NP-1")
    return Application.from_object_list([device, port_object])


def _object_id(point: BmsPoint) -> ObjectIdentifier:
    kind, _, number = point.object.partition(",")
    return ObjectIdentifier((kind, int(number)))


class DeviceReader:
    """One controller: its limits, its request slots, its health and back-off."""

    def __init__(self, app: Any, device: BmsDevice, points: Sequence[BmsPoint], clock: Clock) -> None:
        self.app, self.device, self.clock = app, device, clock
        self.address = Address(device.address)
        self.points = list(points)
        self.slots = asyncio.Semaphore(device.max_requests_in_flight)
        self.limits: DeviceLimits | None = None
        self.chunk_size: int | None = None
        self.health = DeviceHealth(f"bms:{device.id}", True, None, None, None, 0, 0, clock())
        self.retry_at: datetime | None = None
        self.requests = 0

    @property
    def timeout(self) -> float:
        return self.device.timeout.total_seconds()

    async def _call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        async with self.slots:
            self.requests += 1
            return await asyncio.wait_for(make(), self.timeout)

    async def read_limits(self) -> DeviceLimits:
        """Max APDU and segmentation from the Device object (12.11.19, 12.11.20), YAML winning."""
        max_apdu, segmentation = self.device.max_apdu_length, self.device.segmentation
        if max_apdu is None or segmentation is None:
            device_id = ObjectIdentifier(("device", self.device.device_instance))
            answer = await self._call(
                lambda: self.app.read_property_multiple(
                    self.address, [device_id, ["max-apdu-length-accepted", "segmentation-supported"]]
                )
            )
            values = {str(prop): value for _obj, prop, _index, value in answer}
            if max_apdu is None:
                max_apdu = int(values.get("max-apdu-length-accepted", 480))
            if segmentation is None:
                seg = values.get("segmentation-supported")
                segmentation = seg in (Segmentation.segmentedBoth, Segmentation.segmentedTransmit)
        limits = DeviceLimits(min(max_apdu, OUR_MAX_APDU), bool(segmentation), self.device.max_properties_per_request)
        self.limits = limits
        self.chunk_size = limits.properties_per_request
        return limits

    async def _rpm(self, points: list[BmsPoint]) -> list[tuple[BmsPoint, Any]]:
        flat: list[Any] = []
        for p in points:
            flat += [_object_id(p), [p.property]]
        answer = await self._call(lambda: self.app.read_property_multiple(self.address, flat))
        by_object = {(str(obj), str(prop)): value for obj, prop, _index, value in answer}
        return [(p, by_object.get((str(_object_id(p)), p.property))) for p in points]

    async def _rpm_props(self, point: BmsPoint, props: list[str]) -> list[tuple[str, Any]]:
        answer = await self._call(lambda: self.app.read_property_multiple(self.address, [_object_id(point), props]))
        return [(str(prop), value) for _obj, prop, _index, value in answer]

    async def read(self, points: list[BmsPoint]) -> tuple[list[tuple[BmsPoint, Any]], list[str]]:
        """Values of `points` by RPM in chunks; a chunk the device aborts as too big is split and retried."""
        if self.limits is None:
            await self.read_limits()
        assert self.chunk_size is not None
        results: list[tuple[BmsPoint, Any]] = []
        errors: list[str] = []
        pending = [list(c) for c in chunks([p.id for p in points], self.chunk_size)]
        by_id = {p.id: p for p in points}

        async def one(ids: list[str]) -> None:
            batch = [by_id[i] for i in ids]
            try:
                results.extend(await self._rpm(batch))
            except AbortPDU as abort:
                reason = str(abort.apduAbortRejectReason)
                if reason in SHRINKING_ABORTS and len(batch) > 1:
                    half = len(batch) // 2
                    self.chunk_size = max(1, min(self.chunk_size or half, half))
                    log.info("%s: %s; reading %d properties per request", self.device.id, reason, self.chunk_size)
                    await asyncio.gather(one(ids[:half]), one(ids[half:]))
                else:
                    raise
            except ErrorRejectAbortNack as error:
                errors.append(f"{','.join(ids)}: {error}")

        await asyncio.gather(*(one(ids) for ids in pending))
        return results, errors

    def due(self, now: datetime) -> bool:
        return self.retry_at is None or now >= self.retry_at

    def succeeded(self, now: datetime) -> None:
        self.health = after_attempt(self.health, now)
        self.retry_at = None

    def failed(self, now: datetime, error: str) -> None:
        self.health = after_attempt(self.health, now, error)
        delay = backoff_delay(self.health.consecutive_failures, BACKOFF_INITIAL, BACKOFF_MAX)
        self.retry_at = now + timedelta(seconds=delay)


class BmsClient:
    def __init__(
        self,
        site: SiteModel,
        address: str,
        sink: TrendSink | None = None,
        health_sink: HealthSink | None = None,
        clock: Clock = utc_now,
        *,
        device_instance: int = 4194001,
    ) -> None:
        self.site, self.address, self.clock = site, address, clock
        self.sink, self.health_sink = sink, health_sink
        self.device_instance = device_instance
        self.app: Any = None
        self.readers: dict[str, DeviceReader] = {}
        self.cov = CovBook(clock)
        self._cov_device: dict[str, DeviceReader] = {}
        self.notifications = 0

    # -- lifecycle --------------------------------------------------------------------------------
    async def __aenter__(self) -> BmsClient:
        self.app = local_application(self.address, self.device_instance, "bms-bridge BMS client")
        for bms_device in self.site.bms_devices:
            points = [p for p in self.site.bms_points if p.device == bms_device.id]
            self.readers[bms_device.id] = DeviceReader(self.app, bms_device, points, self.clock)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.app is not None:
            self.app.close()
            await asyncio.sleep(0)  # let the datagram transports close
            self.app = None

    # -- polling ----------------------------------------------------------------------------------
    async def poll_device(self, reader: DeviceReader) -> list[TrendSample]:
        now = self.clock()
        if not reader.due(now):
            return []
        covered = self.cov.covered()
        wanted = [p for p in reader.points if trend_kind(p.object.split(",")[0]) is not None and p.id not in covered]
        if not wanted:
            return []
        try:
            results, errors = await reader.read(wanted)
        except (TimeoutError, ErrorRejectAbortNack, OSError) as error:
            reason = type(error).__name__ if isinstance(error, TimeoutError) else str(error)
            log.warning("BMS device %s did not answer: %s", reader.device.id, reason)
            reader.failed(now, f"no answer: {reason}")
            await self._report(reader)
            return []
        samples: list[TrendSample] = []
        for point, value in results:
            kind = trend_kind(point.object.split(",")[0])
            number = None if value is None or isinstance(value, ErrorType) else trend_value(kind, value)  # type: ignore[arg-type]
            if number is None:
                errors.append(f"{point.id}: no value ({value})")
                continue
            assert kind is not None
            samples.append(TrendSample(point.id, now, kind, number))
        reader.succeeded(now)
        if errors:  # the controller answered: online, but say which points gave nothing
            reader.health = replace(reader.health, last_error="; ".join(errors[:3]))
        await self._report(reader)
        if samples and self.sink is not None:
            await self.sink(samples)
        return samples

    async def poll_once(self) -> list[TrendSample]:
        found = await asyncio.gather(*(self.poll_device(r) for r in self.readers.values()))
        return [s for batch in found for s in batch]

    async def _report(self, reader: DeviceReader) -> None:
        if self.health_sink is not None:
            await self.health_sink(reader.health)

    # -- COV --------------------------------------------------------------------------------------
    async def maintain_cov(self) -> int:
        """Subscribe (or renew) every COV-capable point that is due; returns how many were accepted."""
        for reader in self.readers.values():
            if not reader.device.cov:
                continue
            for point in reader.points:
                if trend_kind(point.object.split(",")[0]) is not None and point.property == "present-value":
                    self.cov.want(point.id, reader.device.cov_lifetime)
                    self._cov_device[point.id] = reader
        accepted = 0
        for sub in self.cov.due():
            reader = self._cov_device[sub.point_id]
            if not reader.due(self.clock()):
                continue
            if await self._subscribe(reader, sub):
                accepted += 1
        return accepted

    async def _subscribe(self, reader: DeviceReader, sub: Subscription) -> bool:
        point = next(p for p in reader.points if p.id == sub.point_id)
        request = SubscribeCOVRequest(
            subscriberProcessIdentifier=sub.process_id,
            monitoredObjectIdentifier=_object_id(point),
            issueConfirmedNotifications=False,
            lifetime=int(sub.lifetime.total_seconds()),
            destination=reader.address,
        )
        self.app._cov_contexts[(reader.address, sub.process_id)] = _CovContext(self, point, _object_id(point))
        try:
            answer = await reader._call(lambda: self.app.request(request))
        except ErrorRejectAbortNack as error:
            sub.refused = str(error)
            log.info("%s: COV refused (%s); polled instead", point.id, error)
            return False
        except TimeoutError:
            return False
        if isinstance(answer, SimpleAckPDU):
            self.cov.accepted(sub)
            return True
        return False

    async def on_cov(self, point: BmsPoint, value: Any) -> None:
        kind = trend_kind(point.object.split(",")[0])
        if kind is None:
            return
        number = trend_value(kind, value)
        if number is None:
            return
        self.notifications += 1
        if self.sink is not None:
            await self.sink([TrendSample(point.id, self.clock(), kind, number)])

    # -- schedules --------------------------------------------------------------------------------
    async def read_schedules(self) -> dict[str, OccupancySchedule]:
        """Every `schedule` point decoded, with the Calendars its Exception_Schedule refers to."""
        zone = self.site.site.zone
        found: dict[str, OccupancySchedule] = {}
        for reader in self.readers.values():
            calendars: dict[str, Any] = {}
            for point in reader.points:
                if point.object.startswith("calendar"):
                    [(_, value)] = await reader._rpm_props(point, ["date-list"])
                    calendars[point.object] = calendar_dates(value)
            for point in reader.points:
                if not point.object.startswith("schedule"):
                    continue
                props = ["weekly-schedule", "exception-schedule", "schedule-default"]
                values = dict(await reader._rpm_props(point, props))
                found[point.id] = schedule(
                    values.get("weekly-schedule"),
                    values.get("exception-schedule"),
                    values.get("schedule-default"),
                    calendars,
                    zone,
                    name=point.id,
                )
        return found


class _CovContext:
    """What bacpypes3's COV service looks up by (address, process id) to deliver a notification."""

    def __init__(self, client: BmsClient, point: BmsPoint, object_id: ObjectIdentifier) -> None:
        self.client, self.point = client, point
        self.monitored_object_identifier = object_id

    async def put(self, property_value: Any) -> None:
        if str(property_value.propertyIdentifier) == "present-value":
            await self.client.on_cov(self.point, property_value.value.cast_out(_present_value_type(self.point)))


def _present_value_type(point: BmsPoint) -> Any:
    from bacpypes3.basetypes import BinaryPV
    from bacpypes3.primitivedata import Real, Unsigned

    kind = trend_kind(point.object.split(",")[0])
    return {TrendKind.BINARY: BinaryPV, TrendKind.MULTISTATE: Unsigned}.get(kind, Real)  # type: ignore[arg-type]
