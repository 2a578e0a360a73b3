"""The history the BMS can read back (OPC UA HistoryRead): what the store really holds for each point.

Physical points: their raw readings. Virtual points: running totals rebuilt from their 15-minute
intervals (`metering.virtual_totals`), anchored on the live value the feed shows, so a trend joins the
live value. Samples are (time, value) with start <= time <= end, oldest first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from bms_bridge.exposure.points import PointValue, TrendRecord
from metering.intervals import SLOT
from metering.readings import Quality
from metering.store import Store
from metering.virtual_totals import running_totals

# Before any reading a site can have: the origin of a virtual point's totals without a live value.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
# Readings a trend shows without a fault flag: read from the meter or typed by a person
_TRUSTWORTHY = frozenset({Quality.MEASURED, Quality.MANUAL})


class StoreTrends:
    """The BACnet Trend Logs' view of the store: a point's readings counted and paged in time order."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def count(self, point_id: str, before: datetime | None = None, inclusive: bool = False) -> int:
        return await self._store.reading_count(point_id, before=before, inclusive=inclusive)

    async def page(self, point_id: str, offset: int, limit: int) -> list[TrendRecord]:
        rows = await self._store.readings_page(point_id, offset, limit)
        return [TrendRecord(r.ts, r.value, r.quality in _TRUSTWORTHY) for r in rows]


class PointHistory:
    def __init__(self, store: Store, live: Callable[[str], PointValue | None], virtual: Collection[str]) -> None:
        self._store = store
        self._live = live
        self._virtual = frozenset(virtual)

    async def read(
        self, point_id: str, start: datetime, end: datetime, limit: int | None
    ) -> list[tuple[datetime, float]]:
        if point_id in self._virtual:
            samples = await self._virtual_totals(point_id, start, end)
        else:
            # the store's ranges are [start, end); a ReadRaw includes its end
            rows = await self._store.readings(point_id, start, end + timedelta(milliseconds=1))
            samples = [(r.ts, r.value) for r in rows]
        return samples[:limit] if limit else samples

    async def _virtual_totals(self, point_id: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
        live = self._live(point_id)
        if live is not None and live.value is not None and live.timestamp is not None:
            anchor = (live.timestamp, live.value)
            # every interval ending after `start` up to the live value: they lead back from it
            intervals = await self._store.intervals(point_id, max(start, _BEGINNING) - SLOT, live.timestamp)
            totals = running_totals(intervals, anchor)
        else:
            intervals = await self._store.intervals(point_id, _BEGINNING, end)
            totals = running_totals(intervals, None)
        return [(moment, value) for moment, value in totals if start <= moment <= end]
