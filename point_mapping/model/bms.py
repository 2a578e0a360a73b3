"""Points read back from the building's BMS over BACnet: setpoints, modes, valves, fans, schedules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from point_mapping.model.common import Duration, Frozen, Id, UnitSymbol
from point_mapping.model.tariffs import TimeWindow

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
    "calendar",
    "return-air-temperature",
    "damper",
]

_OBJECT_REF = re.compile(r"^[a-z-]+,\d+$")


class BmsDevice(Frozen):
    id: Id
    name: str = ""
    address: str = Field(description="BACnet/IP address of the controller, e.g. '127.0.0.1:47809'")
    device_instance: int = Field(ge=0, le=4194302)
    poll_interval: Duration = Field(default=timedelta(seconds=60))
    max_properties_per_request: int = Field(default=25, ge=1, le=500)
    # what the controller accepts, when it cannot be read from its Device object (or to be stricter)
    max_apdu_length: int | None = Field(default=None, ge=50, le=1476)
    segmentation: bool | None = Field(default=None, description="None: ask the device")
    max_requests_in_flight: int = Field(default=2, ge=1, le=16)
    timeout: Duration = Field(default=timedelta(seconds=2))
    cov: bool = Field(default=True, description="subscribe to COV where the device supports it")
    cov_lifetime: Duration = Field(default=timedelta(minutes=10))


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


HvacKind = Literal["ahu", "fcu", "perimeter-heating", "chiller", "other"]


class HvacMeter(Frozen):
    point: Id = Field(description="a cumulative energy point (kWh, MJ) whose consumption the conflicts waste")
    share: float = Field(default=1.0, gt=0, le=1, description="this equipment's share of a shared meter")


class HvacEquipment(Frozen):
    """What the rules need to know about an AHU, FCU group or radiator circuit beyond its BMS points."""

    id: Id
    name: str = ""
    kind: HvacKind = "ahu"
    zone: Id | None = None
    spaces: list[Id] = Field(default_factory=list, description="served spaces; empty: the zone's building")
    meters: list[HvacMeter] = Field(default_factory=list)
    occupancy: list[TimeWindow] = Field(
        default_factory=list, description="YAML fallback when the BMS has no Schedule object for it"
    )


class HvacRules(Frozen):
    """Thresholds of the HVAC conflict rules; defaults from NIST APAR and ASHRAE Guideline 36."""

    enabled: bool = True
    valve_open_pct: float = Field(default=2.0, gt=0, lt=50)
    persistence: Duration = Field(default=timedelta(minutes=60))
    min_deadband_k: float = Field(default=1.0, ge=0)
    max_mode_switches_per_hour: int = Field(default=7, ge=1)
    max_sample_age: Duration = Field(default=timedelta(minutes=20))
    min_outdoor_air_pct: float = Field(default=20.0, ge=0, lt=100)
    meter_active_pct: float = Field(
        default=10.0, gt=0, lt=100, description="a heat or cooling meter is active above this % of its peak hour"
    )


class BmsClientSettings(Frozen):
    """Where the bridge's own BACnet client binds to read the BMS (a UDP port of its own, not the server's)."""

    enabled: bool = True
    address: str = Field(default="127.0.0.1/8:47820", description="'HOST/MASK:PORT' to bind")
    schedule_refresh: Duration = Field(default=timedelta(hours=1))
    findings_refresh: Duration = Field(default=timedelta(minutes=15))
