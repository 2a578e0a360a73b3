"""The values that flow from meters to bills: raw readings and 15-minute intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Quality(StrEnum):
    """How far a value can be trusted; maps onto Green Button QualityOfReading (see `espi_code`)."""

    MEASURED = "measured"  # read from the meter
    ESTIMATED = "estimated"  # spread across a gap by linear interpolation
    MANUAL = "manual"  # typed in or imported from a notebook/CSV
    CORRECTED = "corrected"  # adjusted by a person after review
    QUESTIONABLE = "questionable"  # read, but failed a plausibility check (e.g. register went backwards)

    @property
    def espi_code(self) -> int:
        # NAESB REQ.21 QualityOfReading: 0 valid, 7 manually edited, 9 linear interpolation, 10 questionable
        return {"measured": 0, "estimated": 9, "manual": 7, "corrected": 7, "questionable": 10}[self.value]


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one point at one instant. `ts` is timezone-aware UTC (the device's own time)."""

    point_id: str
    ts: datetime
    value: float
    quality: Quality = Quality.MEASURED
    source: str = ""  # e.g. "modbus:em-a1-01", "lpwan:70b3d57ed0001234", "csv:notebook-2024.csv"

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"reading of {self.point_id} has a naive timestamp {self.ts!r}")


@dataclass(frozen=True, slots=True)
class Interval:
    """Consumption of one point during [start, start + 15 min). `start` is aware UTC."""

    point_id: str
    start: datetime
    value: float
    quality: Quality = Quality.MEASURED

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError(f"interval of {self.point_id} has a naive start {self.start!r}")
