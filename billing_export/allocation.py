"""Common-area pools shared among a building's contracts, and the reconciliation against the main meter.

Per quarter hour the pool is the sum of the metered common points, or the main meter minus the
listed sub-meters. `area`: each contract in force at that quarter hour takes its leased area in the
building over the leased area of all contracts then in force. `metered`: each contract takes its share
of the building's tenant consumption over the whole period. Reconciliation: main = billed + common +
losses, where losses (unmetered use, vacancy, meter tolerance) above the pool's tolerance are flagged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing_export.money import ZERO, quantity
from billing_export.pricing import Slot
from metering.quality import worst
from metering.readings import Quality
from point_mapping.model import CommonPool, Contract, SiteModel


@dataclass(frozen=True)
class Reconciliation:
    pool: str
    building: str
    resource: str
    unit: str
    main: Decimal
    billed: Decimal
    common: Decimal
    losses: Decimal
    tolerance_percent: Decimal

    @property
    def losses_percent(self) -> Decimal:
        return (self.losses * 100 / self.main).quantize(Decimal("0.01")) if self.main else ZERO

    @property
    def flagged(self) -> bool:
        return abs(self.losses) * 100 > self.tolerance_percent * abs(self.main)


def pool_slots(pool: CommonPool, slots: Mapping[str, Sequence[Slot]]) -> list[Slot]:
    """The pool's quantity per quarter hour."""
    value: dict[datetime, Decimal] = defaultdict(lambda: ZERO)
    quality: dict[datetime, Quality] = defaultdict(lambda: Quality.MEASURED)

    def add(point_id: str, sign: int) -> None:
        for slot in slots.get(point_id, ()):
            value[slot.start] += sign * slot.quantity
            quality[slot.start] = worst(quality[slot.start], slot.quality)

    if pool.common_points:
        for point_id in pool.common_points:
            add(point_id, 1)
    else:
        add(pool.main, 1)
        for point_id in pool.submeters:
            add(point_id, -1)
    return [Slot(start, value[start], quality[start]) for start in sorted(value)]


def leased_area(site: SiteModel, contract: Contract, building: str) -> Decimal:
    """Leased area of `contract` in `building`, m² as written in the YAML."""
    area = ZERO
    for space_id in contract.spaces:
        if site.building_of_space[space_id].id == building:
            area += Decimal(repr(site.space_by_id[space_id].area_m2))
    return area


def tenant_points(site: SiteModel, pool: CommonPool) -> set[str]:
    """Points whose consumption is tenants' own use in the pool's building and resource."""
    if pool.submeters:
        return set(pool.submeters)
    excluded = {pool.main, *pool.common_points}
    result = set()
    for point in site.points:
        space = point.space or (site.meter_by_id[point.meter].space if point.meter else None)
        building = site.building_of_space.get(space) if space is not None else None
        in_pool = building is not None and building.id == pool.building and point.id not in excluded
        if in_pool and site.resource_of(point) == pool.resource:
            result.add(point.id)
    return result


@dataclass(frozen=True)
class Allocation:
    contract: str
    slots: tuple[Slot, ...]
    basis: str


def allocate(
    site: SiteModel,
    pool: CommonPool,
    pool_series: Sequence[Slot],
    spans: Mapping[str, tuple[datetime, datetime]],
    metered: Mapping[str, Decimal],
) -> list[Allocation]:
    """Each participating contract's part of the pool, quarter hour by quarter hour.

    `spans`: occupancy of the contracts in force; `metered`: their own consumption in the building.
    """
    members = [c for c in site.contracts if c.id in spans and leased_area(site, c, pool.building) > 0]
    if pool.basis == "metered":
        total = sum((metered.get(c.id, ZERO) for c in members), ZERO)
        result = []
        for contract in members:
            share = metered.get(contract.id, ZERO) / total if total else ZERO
            start, end = spans[contract.id]
            parts = tuple(Slot(s.start, s.quantity * share, s.quality) for s in pool_series if start <= s.start < end)
            own = quantity(metered.get(contract.id, ZERO))
            basis = f"metered share {quantity(share * 100)} % ({own} of {quantity(total)})"
            result.append(Allocation(contract.id, parts, basis))
        return result
    areas = {c.id: leased_area(site, c, pool.building) for c in members}
    allocated: dict[str, list[Slot]] = {c.id: [] for c in members}
    for slot in pool_series:
        present = [c.id for c in members if spans[c.id][0] <= slot.start < spans[c.id][1]]
        leased = sum((areas[c] for c in present), ZERO)
        for contract_id in present:
            allocated[contract_id].append(Slot(slot.start, slot.quantity * areas[contract_id] / leased, slot.quality))
    return [
        Allocation(c.id, tuple(allocated[c.id]), f"leased area {areas[c.id]} m² of the leased area in force")
        for c in members
    ]


def reconcile(pool: CommonPool, unit: str, main: Iterable[Slot], billed: Decimal, common: Decimal) -> Reconciliation:
    main_total = quantity(sum((s.quantity for s in main), ZERO))
    billed, common = quantity(billed), quantity(common)
    return Reconciliation(
        pool.id,
        pool.building,
        pool.resource.value,
        unit,
        main_total,
        billed,
        common,
        main_total - billed - common,
        pool.loss_tolerance_percent,
    )
