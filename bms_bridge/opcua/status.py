"""PointStatus → OPC UA StatusCode of the value (OPC 10000-8 6.3.2, OPC 10000-4 7.39).

Why these codes and not others:
- stale: Part 8 `Uncertain_LastUsableValue` — "whatever was updating this value has stopped doing so";
  the value is still the meter's last reading.
- comm-failure with a last reading: Part 8 `Uncertain_NoCommunicationLastUsableValue` — communication to
  the data source failed, the value is the last one that had good quality.
- comm-failure without a reading (NaN): Part 8 `Bad_NoCommunication` — "communication with the data
  source is defined, but not established, and there is no last known value available".
  `Bad_CommunicationError` is a Part 4 service result about the client–server link, not a value quality.
- out-of-service: Part 8 `Bad_OutOfService` — "the source of the data is not operational".
- no-value: Part 8 `Bad_WaitingForInitialData` — nothing read from the source since start.
A Bad status makes the server publish a null value (Part 4 7.7.1), so Bad is kept for "no usable value".
"""

from __future__ import annotations

import math

from asyncua import ua

from bms_bridge.exposure.points import PointStatus
from bms_bridge.opcua.ua_values import StatusCodes, status_code

_CODES: dict[PointStatus, int] = {
    PointStatus.OK: StatusCodes.Good,
    PointStatus.STALE: StatusCodes.UncertainLastUsableValue,
    PointStatus.COMM_FAILURE: StatusCodes.UncertainNoCommunicationLastUsableValue,
    PointStatus.OUT_OF_SERVICE: StatusCodes.BadOutOfService,
    PointStatus.NO_VALUE: StatusCodes.BadWaitingForInitialData,
}
# StatusCode objects are never mutated: share one per code instead of allocating one per update.
_STATUS: dict[PointStatus, ua.StatusCode] = {s: status_code(code) for s, code in _CODES.items()}
_NO_COMMUNICATION = status_code(StatusCodes.BadNoCommunication)
_BAD_NAN = status_code(StatusCodes.BadWaitingForInitialData)


def point_status_code(status: PointStatus, value: float) -> ua.StatusCode:
    if math.isnan(value):
        # A NaN carries no reading: never publish it as Good or Uncertain.
        if status is PointStatus.COMM_FAILURE:
            return _NO_COMMUNICATION
        return _STATUS[status] if _STATUS[status].is_bad() else _BAD_NAN
    return _STATUS[status]


def status_code_name(status: PointStatus, value: float = 0.0) -> str:
    """Name of the StatusCode a point with this status gets, e.g. "UncertainLastUsableValue"."""
    return point_status_code(status, value).name
