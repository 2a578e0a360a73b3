"""Trend Log objects (ASHRAE 135 clause 12.25) whose Log_Buffer is the store's readings of a point.

Commercial controllers export histories to a BMS this way: the BMS reads Record_Count and
Total_Record_Count, then fetches Log_Buffer with ReadRange (15.8) by position, by sequence number or by
time, and keeps asking from the last sequence number it has. Nothing is copied: each request reads the
store. The buffer holds every stored reading of the point in time order, so record n (1-based) has
sequence number n; a reading imported later between two stored ones (a CSV backfill) renumbers the
records after it. Timestamps are the device's local time, like Local_Time. A record's value is a REAL
(log datum realValue, what BMS front ends decode); its Status_Flags has FAULT set when the reading was
not measured or typed by a person (estimated, corrected, questionable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bacpypes3.basetypes import (
    DateTime,
    DeviceObjectPropertyReference,
    EventState,
    LoggingType,
    LogRecord,
    LogRecordLogDatum,
    Reliability,
    StatusFlags,
)
from bacpypes3.errors import PropertyError
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import TrendLogObject
from bacpypes3.primitivedata import Date, Time, Unsigned

from bms_bridge.bacnet.objects import HonestPropertyList
from bms_bridge.exposure.points import ExposedPoint, TrendRecord

UNSIGNED32 = 2**32
# Records per ReadRange answer: about 25 octets each, so 100 fit in two segments of a 1476-octet APDU.
MAX_ITEMS = 100


class TrendSource(Protocol):
    """What the Trend Log objects read: a point's stored readings, counted and paged in time order."""

    async def count(self, point_id: str, before: datetime | None = None, inclusive: bool = False) -> int: ...

    async def page(self, point_id: str, offset: int, limit: int) -> Sequence[TrendRecord]: ...


@dataclass(frozen=True)
class Window:
    """Records [offset, offset + count) of a buffer of `total`, and whether more matched than fit."""

    offset: int
    count: int
    total: int
    more: bool = False

    @property
    def result_flags(self) -> list[int]:
        # 21 BACnetResultFlags: first-item, last-item, more-items
        first = self.count > 0 and self.offset == 0
        last = self.count > 0 and self.offset + self.count == self.total
        return [int(first), int(last), int(self.more)]


def window(total: int, reference: int, count: int) -> Window:
    """Records around a 1-based reference position (15.8, by position; with our numbering the
    same for sequence numbers): `count` > 0 from it onwards, < 0 up to and including it. Capped at
    MAX_ITEMS, keeping the records nearest the reference."""
    if total == 0 or count == 0 or not 1 <= reference <= total:
        return Window(0, 0, total)
    if count > 0:
        first, last = reference - 1, min(total, reference - 1 + count)
        more = last - first > MAX_ITEMS
        return Window(first, min(last - first, MAX_ITEMS), total, more)
    last, first = reference, max(0, reference + count)
    more = last - first > MAX_ITEMS
    first = max(first, last - MAX_ITEMS)
    return Window(first, last - first, total, more)


def time_window(total: int, not_after: int, before: int, count: int) -> Window:
    """15.8, by time: `count` > 0 records newer than the reference time (`not_after` of them are
    at or before it), `count` < 0 records older than it (`before` of them)."""
    if count > 0:
        return window(total, not_after + 1, count) if not_after < total else Window(0, 0, total)
    if count < 0:
        return window(total, before, count) if before > 0 else Window(0, 0, total)
    return Window(0, 0, total)


def bacnet_datetime(moment: datetime) -> DateTime:
    local = moment.astimezone()  # the device's local time, as Local_Time/Local_Date
    day_of_week = local.isoweekday()  # 21 BACnetDate: Monday 1 .. Sunday 7
    return DateTime(
        date=Date((local.year - 1900, local.month, local.day, day_of_week)),
        time=Time((local.hour, local.minute, local.second, local.microsecond // 10_000)),
    )


def python_datetime(value: Any) -> datetime:
    """A BACnetDateTime (device local time) as an aware datetime; wildcards are not accepted."""
    year, month, day, _ = tuple(value.date)
    hour, minute, second, hundredths = tuple(value.time)
    if 255 in (year, month, day, hour, minute, second):
        raise ValueError("unspecified date or time")
    hundredths = 0 if hundredths == 255 else hundredths
    return datetime(year + 1900, month, day, hour, minute, second, hundredths * 10_000).astimezone()


def log_record(record: TrendRecord) -> LogRecord:
    return LogRecord(
        timestamp=bacnet_datetime(record.timestamp),
        logDatum=LogRecordLogDatum(realValue=float(record.value)),
        statusFlags=StatusFlags([0, 0 if record.trustworthy else 1, 0, 0]),  # in-alarm, fault, overridden, oos
    )


class MeterTrendLog(HonestPropertyList, LocalObject, TrendLogObject):  # type: ignore[misc]
    """A read-only Trend Log of one point; counts come from the store at each read."""

    _point_id: str
    _source: TrendSource

    async def read_property(self, attr: Any, index: int | None = None) -> Any:
        name = attr if isinstance(attr, str) else getattr(attr, "attr", str(attr))
        if name == "logBuffer":
            # 12.25 Trend Log, Log_Buffer: read with ReadRange only
            raise PropertyError("readAccessDenied")
        if name in ("recordCount", "totalRecordCount"):
            total = await self._source.count(self._point_id)
            return Unsigned(total if name == "recordCount" else total % UNSIGNED32)
        return await super().read_property(attr, index)

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        raise PropertyError("writeAccessDenied")

    async def records(self, window: Window) -> list[LogRecord]:
        rows = await self._source.page(self._point_id, window.offset, window.count)
        return [log_record(row) for row in rows]


def build_trend_log(point: ExposedPoint, source: TrendSource) -> MeterTrendLog:
    """The point's Trend Log: same instance number as its object, name suffixed ".log"."""
    obj = MeterTrendLog(
        objectIdentifier=("trend-log", point.bacnet_instance),
        objectName=f"{point.name}.log"[:255],
        description=f"readings of {point.name}"[:255],
        eventState=EventState.normal,
        reliability=Reliability.noFaultDetected,
        enable=True,
        stopWhenFull=False,
        bufferSize=UNSIGNED32 - 1,  # every stored reading: the store, not the object, bounds it
        logBuffer=[],
        recordCount=0,
        totalRecordCount=0,
        loggingType=LoggingType.triggered,  # a record per reading the meter delivers
        logDeviceObjectProperty=DeviceObjectPropertyReference(
            objectIdentifier=(point.bacnet_object, point.bacnet_instance), propertyIdentifier="presentValue"
        ),
    )
    obj._point_id = point.point_id
    obj._source = source
    return obj
