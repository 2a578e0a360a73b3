"""Keeps the BMS's view honest: the latest value of every exposed point and whether it can be trusted.

Readings and device health arrive from acquisition; a periodic `refresh()` turns silent points stale.
Virtual totals (e.g. common areas = main − Σ tenants) come from `metering.live_virtual`, which counts
their inputs' validated consumption, so the BMS sees them live and they do not jump at a meter exchange.
Every change goes to the sinks (BACnet, OPC UA) as `PointValue`s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta

from bms_bridge.exposure.points import ExposedPoint, PointStatus, PointValue
from metering.health import DeviceHealth
from metering.live_virtual import LiveTotals
from metering.readings import Reading

log = logging.getLogger(__name__)

Sink = Callable[[list[PointValue]], Awaitable[None]]


def point_status(
    last_ts: datetime | None,
    now: datetime,
    stale_after: timedelta | None,
    devices_online: bool,
    out_of_service: bool,
) -> PointStatus:
    """The one rule for a point's status; out-of-service wins, then comm failure, then age (None: no limit)."""
    if out_of_service:
        return PointStatus.OUT_OF_SERVICE
    if not devices_online:
        return PointStatus.COMM_FAILURE
    if last_ts is None:
        return PointStatus.NO_VALUE
    if stale_after is not None and now - last_ts > stale_after:
        return PointStatus.STALE
    return PointStatus.OK


class ExposureFeed:
    def __init__(
        self,
        points: Iterable[ExposedPoint],
        devices_of_point: Mapping[str, frozenset[str]],
        stale_after: timedelta | None,
        clock: Callable[[], datetime],
        sinks: Iterable[Sink] = (),
        virtual: LiveTotals | None = None,
        stale_after_of: Mapping[str, timedelta | None] | None = None,  # per point, wins over `stale_after`
    ) -> None:
        self._points = {p.point_id: p for p in points}
        self._devices_of_point = dict(devices_of_point)
        self._stale_after = stale_after
        self._stale_after_of = dict(stale_after_of or {})
        self._clock = clock
        self._sinks = list(sinks)
        self._virtual = virtual
        self._last: dict[str, tuple[datetime, float]] = {}
        self._offline: set[str] = set()
        self._published: dict[str, PointValue] = {}

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def on_readings(self, readings: Iterable[Reading]) -> None:
        readings = list(readings)
        changed: set[str] = set()
        for reading in readings:
            previous = self._last.get(reading.point_id)
            if previous is not None and previous[0] > reading.ts:
                continue  # a late LPWAN uplink or a CSV import must not roll the live value back
            self._last[reading.point_id] = (reading.ts, reading.value)
            changed.add(reading.point_id)
        if self._virtual is not None:
            for point_id, latest in self._virtual.observe(readings).items():
                self._last[point_id] = latest
                changed.add(point_id)
        await self._publish([p for p in changed if p in self._points], force=True)

    async def on_values(self, values: Mapping[str, tuple[datetime, float]]) -> None:
        """Values the bridge computes itself (month-to-date billing results): (time, value) per point."""
        for point_id, latest in values.items():
            self._last[point_id] = latest
        await self._publish([p for p in values if p in self._points], force=True)

    async def on_health(self, health: DeviceHealth) -> None:
        was_offline = health.device_id in self._offline
        if health.online:
            self._offline.discard(health.device_id)
        else:
            self._offline.add(health.device_id)
        if was_offline == health.online:  # the device's state changed
            affected = [p for p, devices in self._devices_of_point.items() if health.device_id in devices]
            await self._publish([p for p in affected if p in self._points])

    async def refresh(self) -> None:
        """Re-evaluate every point (call periodically): values age into `stale`."""
        await self._publish(list(self._points))

    def value_of(self, point_id: str) -> PointValue | None:
        return self._published.get(point_id)

    def _value(self, point_id: str, now: datetime) -> PointValue:
        point = self._points[point_id]
        last = self._last.get(point_id)
        online = self._offline.isdisjoint(self._devices_of_point.get(point_id, ()))
        limit = self._stale_after_of.get(point_id, self._stale_after)
        status = point_status(last[0] if last else None, now, limit, online, point.out_of_service)
        if last is None:
            # never read (e.g. a device unreachable since start): no made-up number, no timestamp
            return PointValue(point_id, None, None, status)
        return PointValue(point_id, last[1], last[0], status)

    async def _publish(self, point_ids: Iterable[str], force: bool = False) -> None:
        now = self._clock()
        values = []
        for point_id in point_ids:
            value = self._value(point_id, now)
            if force or self._published.get(point_id) != value:
                self._published[point_id] = value
                values.append(value)
        if not values:
            return
        for sink in self._sinks:
            try:
                await sink(values)
            except Exception:  # one server failing must not starve the other
                point = values[0].point_id if len(values) == 1 else None
                log.exception("exposure sink failed for %d values", len(values), extra={"point": point})
