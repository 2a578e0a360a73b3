"""Values read back from the BMS, typed by what the BACnet object holds.

Analog objects give a REAL, binary objects active/inactive (stored 1/0) and multistate objects a state
number 1..n (BACnet counts states from 1, clause 12.18.4). Keeping the kind beside the value means a
rule never mistakes a fan's status for a 1 % valve position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from metering.readings import Quality


class TrendKind(StrEnum):
    ANALOG = "analog"
    BINARY = "binary"
    MULTISTATE = "multistate"


@dataclass(frozen=True, slots=True)
class TrendSample:
    point_id: str
    ts: datetime
    kind: TrendKind
    value: float
    quality: Quality = Quality.MEASURED

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"trend {self.point_id}: naive datetime {self.ts!r}")
        if not math.isfinite(self.value):
            raise ValueError(f"trend {self.point_id}: {self.value!r} is not a finite value")
        if self.kind is TrendKind.BINARY and self.value not in (0.0, 1.0):
            raise ValueError(f"trend {self.point_id}: a binary value is 0 or 1, not {self.value!r}")
        if self.kind is TrendKind.MULTISTATE and (self.value < 1 or not self.value.is_integer()):
            raise ValueError(f"trend {self.point_id}: a multistate value is a state number >= 1, not {self.value!r}")

    @property
    def typed(self) -> float | bool | int:
        if self.kind is TrendKind.BINARY:
            return self.value == 1.0
        if self.kind is TrendKind.MULTISTATE:
            return int(self.value)
        return self.value
