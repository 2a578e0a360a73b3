"""Descriptors of exposed points and their live values, in domain terms.

The BACnet and OPC UA adapters are built from a list of `ExposedPoint` and fed `PointValue` updates;
neither knows about YAML, Modbus or the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

BacnetObjectKind = Literal["analog-input", "analog-value", "accumulator", "large-analog-value", "binary-value"]


class PointStatus(StrEnum):
    OK = "ok"
    STALE = "stale"  # last value older than the configured age
    COMM_FAILURE = "comm-failure"  # source device offline
    OUT_OF_SERVICE = "out-of-service"  # meter marked out of service in YAML
    NO_VALUE = "no-value"  # nothing read yet since start


@dataclass(frozen=True)
class ExposedPoint:
    point_id: str
    name: str  # operator-readable, unique: "B-A.F3.IT-Co.M-A3-01.active-energy"
    description: str
    unit: str  # a symbol from point_mapping.units.UNITS
    cumulative: bool  # running total (energy, volume) vs instantaneous (power, flow, temperature)
    bacnet_object: BacnetObjectKind
    bacnet_instance: int
    opcua_node_id: str  # string identifier inside the server's namespace
    path: tuple[str, ...] = field(default=())  # folders: (site, building, tenant-or-"Common", meter)
    cov_increment: float = 0.0
    out_of_service: bool = False
    writable: bool = False
    eu_range: tuple[float, float] | None = None
    trend_log: bool = False  # its stored readings are served as a BACnet Trend Log


@dataclass(frozen=True)
class PointValue:
    """A point's state for the BMS. `value` None: nothing was ever read, so there is no last usable value
    to show (and no source timestamp); a status alone says why."""

    point_id: str
    value: float | None
    timestamp: datetime | None  # aware UTC, the meter's time of the reading; None with no value
    status: PointStatus = PointStatus.OK


@dataclass(frozen=True)
class TrendRecord:
    """One stored reading as a trend shows it."""

    timestamp: datetime  # aware
    value: float
    trustworthy: bool = True  # measured or typed by a person, not estimated/corrected/questionable
