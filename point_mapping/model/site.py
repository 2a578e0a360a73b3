"""The site itself and its buildings, floors and spaces."""

from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, PositiveFloat, field_validator

from point_mapping.model.common import Frozen, Id

SpaceUse = Literal[
    "office",
    "retail",
    "restaurant",
    "fitness",
    "conference",
    "server-room",
    "showroom",
    "common",
    "technical",
    "parking",
    "storage",
]


class SiteInfo(Frozen):
    id: Id
    name: str
    timezone: str = Field(description="IANA zone; billing intervals are in this local time")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    holidays_country: str | None = Field(default=None, description="country code for tariff calendars")
    holidays_subdivision: str | None = None
    address: str | None = None
    commissioned: date | None = Field(
        default=None, description="readings stamped before this day are rejected (default 2000-01-01)"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as 'Europe/Berlin'") from None
        return value

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"no holiday calendar for country {value!r}; use an ISO 3166 code such as 'DE'")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Space(Frozen):
    id: Id
    name: str
    area_m2: PositiveFloat
    use: SpaceUse = "office"


class Floor(Frozen):
    id: Id
    name: str
    level: int = 0
    spaces: list[Space] = Field(default_factory=list)


class Building(Frozen):
    id: Id
    name: str
    address: str | None = None
    floors: list[Floor] = Field(default_factory=list)

    @property
    def area_m2(self) -> float:
        return sum(space.area_m2 for floor in self.floors for space in floor.spaces)
