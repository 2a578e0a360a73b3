"""HistoryRead (OPC 10000-11 6.4.3 ReadRawModifiedDetails) served from the bridge's own store.

asyncua calls a `HistoryStorageInterface`; this one keeps no copy of the data: each read goes through
the `HistorySource` callable the application provides (the time-series store). Saving is a no-op because
the store is written by the pollers, not by the OPC UA server.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from asyncua import ua
from asyncua.server.history import HistoryStorageInterface

from bms_bridge.opcua.ua_values import StatusCodes, data_value, status_code

_logger = logging.getLogger(__name__)

# OPC UA DateTime bounds (Part 6 5.2.2.5): the epoch 1601-01-01 means "not specified".
_UNSPECIFIED = ua.get_win_epoch()
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_GOOD = status_code(StatusCodes.Good)


@runtime_checkable
class HistorySource(Protocol):
    async def read(
        self, point_id: str, start: datetime, end: datetime, limit: int | None
    ) -> list[tuple[datetime, float]]:
        """Samples with start <= timestamp <= end in ascending time order, at most `limit` of them."""
        ...


# The same read as a plain coroutine function, e.g. `store.read` or a closure.
HistoryReader = Callable[[str, datetime, datetime, int | None], Awaitable[list[tuple[datetime, float]]]]


def history_reader(history: HistorySource | HistoryReader) -> HistoryReader:
    """Accept either an object with `read` (the HistorySource protocol) or the coroutine function itself."""
    return history.read if isinstance(history, HistorySource) else history


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PointHistoryStorage(HistoryStorageInterface):
    """Reads raw history of exposed points through the application's reader; events are not historized."""

    def __init__(
        self,
        source: HistoryReader,
        point_of_node: Callable[[ua.NodeId], str | None],
        max_history_data_response_size: int = 10_000,
    ) -> None:
        super().__init__(max_history_data_response_size)
        self._source = source
        self._point_of_node = point_of_node

    async def init(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def new_historized_node(self, node_id: ua.NodeId, period: timedelta | None, count: int = 0) -> None:
        pass

    async def save_node_value(self, node_id: ua.NodeId, datavalue: ua.DataValue) -> None:
        pass

    async def read_node_history(
        self, node_id: ua.NodeId, start: datetime | None, end: datetime | None, nb_values: int
    ) -> tuple[list[ua.DataValue], datetime | None]:
        point_id = self._point_of_node(node_id)
        if point_id is None:
            return [], None
        start = _aware(start) if start is not None else _UNSPECIFIED
        end = _aware(end) if end is not None else _UNSPECIFIED
        cap = self.max_history_data_response_size
        wanted = min(nb_values, cap) if nb_values else cap
        # Part 11 6.4.3.2: without an end time read forward from start; without a start time (or with
        # start > end) read backwards, newest first, which the source can only do by reading the range.
        forward = end == _UNSPECIFIED or (start != _UNSPECIFIED and start <= end)
        if forward:
            high = _LATEST if end == _UNSPECIFIED else end
            rows = await self._source(point_id, start, high, wanted + 1)
        else:
            low, high = (end, start) if start != _UNSPECIFIED else (_UNSPECIFIED, end)
            rows = list(reversed(await self._source(point_id, low, high, None)))
        continuation = None
        if len(rows) > wanted:
            # Part 11 6.4.3.2: more data than returned -> a continuation point; asyncua encodes it as the
            # timestamp of the next value, the new (inclusive) start time. Only for forward reads, where
            # replacing the start time resumes the same query.
            if forward:
                continuation = rows[wanted][0]
            rows = rows[:wanted]
        _logger.debug("history of %s %s..%s: %d values", point_id, start, end, len(rows))
        return [_data_value(moment, value) for moment, value in rows], continuation

    async def new_historized_event(
        self, source_id: ua.NodeId, evtypes: list[Any], period: timedelta | None, count: int = 0
    ) -> None:
        pass

    async def save_event(self, event: Any) -> None:
        pass

    async def read_event_history(
        self,
        source_id: ua.NodeId,
        start: datetime | None,
        end: datetime | None,
        nb_values: int,
        evfilter: ua.EventFilter,
    ) -> tuple[list[Any], datetime | None]:
        return [], None


def refuse_unhistorized(manager: Any, historized: Callable[[ua.NodeId], bool]) -> None:
    """HistoryRead of a node without history answers Bad_NotReadable (OPC 10000-4 7.34: the access level
    does not allow it) instead of asyncua's Good with no values, which a client takes for "no data in
    this range"; AccessLevel's HistoryRead bit and Historizing say the same."""
    read_history = manager.read_history

    async def checked(params: ua.HistoryReadParameters) -> list[ua.HistoryReadResult]:
        results: list[ua.HistoryReadResult] = await read_history(params)
        for item, result in zip(params.NodesToRead, results, strict=True):
            if not historized(item.NodeId):
                result.StatusCode = status_code(StatusCodes.BadNotReadable)
                result.HistoryData = None
                result.ContinuationPoint = None
        return results

    manager.read_history = checked


def _data_value(moment: datetime, value: float) -> ua.DataValue:
    moment = _aware(moment)
    return data_value(ua.Variant(float(value), ua.VariantType.Double), _GOOD, source_timestamp=moment)
