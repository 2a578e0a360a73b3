"""Typed constructors for asyncua values.

asyncua annotates its structures with subclasses of int/str/datetime (ua.Int16, ua.String, ua.DateTime)
that plain values satisfy at run time but not for mypy; the casts live here, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from asyncua import ua
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaStatusCodeError

__all__ = [
    "ObjectIds",
    "StatusCodes",
    "UaStatusCodeError",
    "data_value",
    "standard_node_id",
    "status_code",
    "string_node_id",
]


def string_node_id(identifier: str, namespace_index: int) -> ua.NodeId:
    return ua.NodeId(cast(ua.String, identifier), cast(ua.Int16, namespace_index))


def standard_node_id(object_id: int) -> ua.NodeId:
    """A namespace-0 node of the standard address space, e.g. ObjectIds.AnalogItemType."""
    return ua.NodeId(cast(ua.Int32, object_id))


def status_code(code: int) -> ua.StatusCode:
    return ua.StatusCode(cast(ua.UInt32, code))


def data_value(
    value: ua.Variant,
    status: ua.StatusCode | None = None,
    source_timestamp: datetime | None = None,
    server_timestamp: datetime | None = None,
) -> ua.DataValue:
    return ua.DataValue(
        Value=value,
        StatusCode=status if status is not None else status_code(StatusCodes.Good),
        SourceTimestamp=cast(ua.DateTime | None, source_timestamp),
        ServerTimestamp=cast(ua.DateTime | None, server_timestamp),
    )
