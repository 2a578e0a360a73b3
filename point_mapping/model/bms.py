"""Points read back from the building's BMS over BACnet: setpoints, modes, valves, fans, schedules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from point_mapping.model.common import Duration, Frozen, Id, UnitSymbol

BmsRole = Literal[
    "heating-valve",
    "cooling-valve",
    "outdoor-air-damper",
    "fan-status",
    "fan-speed",
    "supply-air-temperature",
    "supply-air-setpoint",
    "mixed-air-temperature",
    "outside-air-temperature",
    "zone-temperature",
    "heating-setpoint",
    "cooling-setpoint",
    "operating-mode",
    "occupancy",
    "schedule",
]

_OBJECT_REF = re.compile(r"^[a-z-]+,\d+$")


class BmsDevice(Frozen):
    id: Id
    name: str = ""
    address: str = Field(description="BACnet/IP address of the controller, e.g. '127.0.0.1:47809'")
    device_instance: int = Field(ge=0, le=4194302)
    poll_interval: Duration = Field(default=timedelta(seconds=60))
    max_properties_per_request: int = Field(default=25, ge=1, le=500)


class BmsPoint(Frozen):
    id: Id
    name: str = ""
    device: Id
    object: str = Field(description="object type and instance, e.g. 'analog-value,12'")
    property: str = "present-value"
    role: BmsRole
    equipment: Id = Field(description="the AHU, FCU, radiator circuit or chiller this point belongs to")
    zone: Id | None = Field(default=None, description="the zone group the equipment serves")
    unit: UnitSymbol | None = None

    @field_validator("object")
    @classmethod
    def _object_ref(cls, value: str) -> str:
        if not _OBJECT_REF.match(value):
            raise ValueError(f"{value!r} is not an object reference; write 'analog-value,12'")
        return value
