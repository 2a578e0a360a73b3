"""Tenants and their lease contracts: which spaces and metering points they pay for, and how."""

from __future__ import annotations

from datetime import date, time

from pydantic import Field, model_validator

from point_mapping.model.common import Frozen, Id
from point_mapping.model.meters import Resource
from point_mapping.model.tariffs import TimeWindow


class Tenant(Frozen):
    id: Id
    name: str
    billing_account: str = Field(min_length=1, description="account id in the billing system")
    contact_email: str | None = None


class ContractPoint(Frozen):
    point: Id
    share: float = Field(default=100.0, gt=0, le=100, description="percent of the point billed here")


class Contract(Frozen):
    id: Id
    tenant: Id
    start: date
    end: date | None = Field(default=None, description="last day of the lease, inclusive; open if absent")
    move_in: time | None = Field(default=None, description="local time of the move-in on `start`; default 00:00")
    move_out: time | None = Field(default=None, description="local time of the move-out on `end`; default 24:00")
    spaces: list[Id] = Field(default_factory=list)
    points: list[ContractPoint] = Field(default_factory=list)
    tariffs: dict[Resource, Id] = Field(default_factory=dict, description="tariff plan per resource")
    occupancy: list[TimeWindow] = Field(
        default_factory=list, description="lease or occupancy hours; empty: anomalies.after_hours.working_hours"
    )
    occupancy_schedule: Id | None = Field(
        default=None,
        description="a BMS point of role 'schedule' whose Schedule object gives the occupancy hours; "
        "`occupancy` (or the site's working hours) applies until the bridge has read it",
    )

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"contract ends ({self.end}) before it starts ({self.start})")
        return self

    def overlaps(self, other: Contract) -> bool:
        mine_end = self.end or date.max
        other_end = other.end or date.max
        return self.start <= other_end and other.start <= mine_end
