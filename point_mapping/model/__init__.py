"""The site model: one frozen pydantic tree per site, assembled from a folder of YAML files."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field

from point_mapping.model.anomalies import AnomalyRules
from point_mapping.model.billing_export import BillingExportSettings, BillingSchedule
from point_mapping.model.bms import BmsClientSettings, BmsDevice, BmsPoint, HvacEquipment, HvacRules
from point_mapping.model.common import Frozen
from point_mapping.model.devices import (
    Bus,
    Device,
    LpwanConnection,
    ManualConnection,
    ModbusRtuConnection,
    ModbusTcpConnection,
)
from point_mapping.model.meters import Meter, Point, Resource
from point_mapping.model.pools import CommonPool
from point_mapping.model.profiles import MeterProfile
from point_mapping.model.savings import EmissionFactor, Measure, SavingsSettings
from point_mapping.model.services import Acquisition, Exposure, Lpwan, Storage, Web
from point_mapping.model.site import Building, Floor, SiteInfo, Space
from point_mapping.model.tariffs import Tariff
from point_mapping.model.tenants import Contract, ContractPoint, Tenant

# Sections that hold one mapping (defined in one file) and sections that hold lists (merged across files).
MAPPING_SECTIONS = (
    "site",
    "exposure",
    "acquisition",
    "lpwan",
    "web",
    "hvac_rules",
    "bms_client",
    "billing_export",
    "anomalies",
    "savings",
    "storage",
)
LIST_SECTIONS = (
    "buildings",
    "buses",
    "devices",
    "meters",
    "points",
    "tenants",
    "contracts",
    "tariffs",
    "common_pools",
    "bms_devices",
    "bms_points",
    "profiles",
    "hvac_equipment",
    "measures",
    "emission_factors",
)


class SiteModel(Frozen):
    site: SiteInfo
    buildings: list[Building] = Field(default_factory=list)
    buses: list[Bus] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    meters: list[Meter] = Field(default_factory=list)
    points: list[Point] = Field(default_factory=list)
    tenants: list[Tenant] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    tariffs: list[Tariff] = Field(default_factory=list)
    common_pools: list[CommonPool] = Field(default_factory=list)
    bms_devices: list[BmsDevice] = Field(default_factory=list)
    bms_points: list[BmsPoint] = Field(default_factory=list)
    hvac_equipment: list[HvacEquipment] = Field(default_factory=list)
    hvac_rules: HvacRules = Field(default_factory=HvacRules)
    anomalies: AnomalyRules = Field(default_factory=AnomalyRules)
    measures: list[Measure] = Field(default_factory=list, description="energy-saving measures taken")
    savings: SavingsSettings = Field(default_factory=SavingsSettings)
    emission_factors: list[EmissionFactor] = Field(default_factory=list, description="none by default")
    bms_client: BmsClientSettings = Field(default_factory=BmsClientSettings)
    profiles: list[MeterProfile] = Field(default_factory=list, description="custom register maps")
    exposure: Exposure = Field(default_factory=Exposure)
    acquisition: Acquisition = Field(default_factory=Acquisition)
    lpwan: Lpwan = Field(default_factory=Lpwan)
    web: Web = Field(default_factory=Web)
    storage: Storage = Field(default_factory=Storage)
    billing_export: BillingExportSettings | None = None

    # Lookups by id, built once; the model is frozen so they never go stale.
    @cached_property
    def device_by_id(self) -> dict[str, Device]:
        return {d.id: d for d in self.devices}

    @cached_property
    def bus_by_id(self) -> dict[str, Bus]:
        return {b.id: b for b in self.buses}

    @cached_property
    def meter_by_id(self) -> dict[str, Meter]:
        return {m.id: m for m in self.meters}

    @cached_property
    def point_by_id(self) -> dict[str, Point]:
        return {p.id: p for p in self.points}

    @cached_property
    def tenant_by_id(self) -> dict[str, Tenant]:
        return {t.id: t for t in self.tenants}

    @cached_property
    def tariff_by_id(self) -> dict[str, Tariff]:
        return {t.id: t for t in self.tariffs}

    @cached_property
    def space_by_id(self) -> dict[str, Space]:
        return {s.id: s for b in self.buildings for f in b.floors for s in f.spaces}

    @cached_property
    def building_of_space(self) -> dict[str, Building]:
        return {s.id: b for b in self.buildings for f in b.floors for s in f.spaces}

    def points_of_meter(self, meter_id: str) -> list[Point]:
        return [p for p in self.points if p.meter == meter_id]

    def meters_of_device(self, device_id: str) -> list[Meter]:
        return [m for m in self.meters if m.device == device_id]

    def resource_of(self, point: Point) -> Resource:
        if point.resource is not None:
            return point.resource
        assert point.meter is not None  # a physical point, checked on load
        return self.meter_by_id[point.meter].resource


__all__ = [
    "LIST_SECTIONS",
    "MAPPING_SECTIONS",
    "BillingExportSettings",
    "BillingSchedule",
    "BmsDevice",
    "BmsPoint",
    "Building",
    "Bus",
    "CommonPool",
    "Contract",
    "ContractPoint",
    "Device",
    "EmissionFactor",
    "Floor",
    "LpwanConnection",
    "ManualConnection",
    "Measure",
    "Meter",
    "MeterProfile",
    "ModbusRtuConnection",
    "ModbusTcpConnection",
    "Point",
    "Resource",
    "SavingsSettings",
    "SiteInfo",
    "SiteModel",
    "Space",
    "Tariff",
    "Tenant",
]
