"""Common-area pools: consumption no tenant meters directly, shared among a building's contracts."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from point_mapping.model.common import Frozen, Id
from point_mapping.model.meters import Resource

PoolBasis = Literal["area", "metered"]


class CommonPool(Frozen):
    """One resource of one building: what the main meter saw beyond the tenants' own meters.

    The pool is either the metered common points (`common_points`) or the main meter minus the listed
    tenant sub-meters (`submeters`). It is shared among the contracts with spaces in the building, by
    leased area in force at each quarter hour (`area`) or by each contract's metered share of the
    building's tenant consumption in the period (`metered`).
    """

    id: Id
    building: Id
    resource: Resource
    main: Id = Field(description="the building's main metering point for this resource")
    common_points: list[Id] = Field(default_factory=list)
    submeters: list[Id] = Field(default_factory=list)
    basis: PoolBasis = "area"
    loss_tolerance_percent: Decimal = Field(default=Decimal(2), ge=0, le=100)

    @model_validator(mode="after")
    def _one_source(self) -> CommonPool:
        if bool(self.common_points) == bool(self.submeters):
            raise ValueError("give either 'common_points' (metered common areas) or 'submeters' (main minus them)")
        return self
