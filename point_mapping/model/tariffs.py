"""Tariffs: a price per unit by tariff zone (time-of-use windows), plus fixed and demand charges."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, NonNegativeFloat, model_validator

from point_mapping.model.common import Frozen, Id, UnitSymbol
from point_mapping.model.meters import Resource

DayKind = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekdays", "weekend", "holidays"]


class TimeWindow(Frozen):
    days: list[DayKind] = Field(min_length=1)
    start: time = Field(alias="from")
    end: time = Field(alias="to", description="exclusive; 00:00 means midnight at the end of the day")

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end != time(0) and self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start}); split it at midnight")
        return self


class TariffZone(Frozen):
    id: Id
    name: str = ""
    price: NonNegativeFloat = Field(description="currency per tariff unit")
    windows: list[TimeWindow] = Field(default_factory=list, description="empty: the default zone")


class Tariff(Frozen):
    id: Id
    name: str = ""
    resource: Resource
    unit: UnitSymbol
    zones: list[TariffZone] = Field(min_length=1)
    standing_charge_per_month: NonNegativeFloat = 0.0
    demand_charge_per_kw: NonNegativeFloat = Field(default=0.0, description="on the max 15-min kW of the month")

    @model_validator(mode="after")
    def _one_default_zone(self) -> Tariff:
        defaults = [zone.id for zone in self.zones if not zone.windows]
        if len(defaults) != 1:
            raise ValueError(f"a tariff needs exactly one zone without windows (the default), found {len(defaults)}")
        return self
