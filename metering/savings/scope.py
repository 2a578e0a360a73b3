"""Which metering points a measure, a tenant or a building stands for, per resource."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from point_mapping.model import Measure, SiteModel
from point_mapping.model.meters import Resource


def building_points(site: SiteModel, building_id: str, cumulative: Collection[str]) -> dict[Resource, list[str]]:
    """A building's main points: cumulative points of meters in its spaces that are nobody's sub-meter."""
    found: dict[Resource, list[str]] = {}
    for point in site.points:
        if point.id not in cumulative or point.meter is None:
            continue
        meter = site.meter_by_id[point.meter]
        building = site.building_of_space.get(meter.space or "")
        if meter.submeter_of is None and building is not None and building.id == building_id:
            found.setdefault(meter.resource, []).append(point.id)
    return found


def tenant_points(site: SiteModel, tenant_id: str, day: date, cumulative: Collection[str]) -> dict[Resource, list[str]]:
    """The points a tenant's contracts in force on `day` bill at 100 %: its own meters, not shared ones."""
    found: dict[Resource, list[str]] = {}
    for contract in site.contracts:
        if contract.tenant != tenant_id or contract.start > day or (contract.end is not None and contract.end < day):
            continue
        for item in contract.points:
            if item.share == 100.0 and item.point in cumulative and item.point in site.point_by_id:
                resource = site.resource_of(site.point_by_id[item.point])
                ids = found.setdefault(resource, [])
                if item.point not in ids:
                    ids.append(item.point)
    return found


def measure_points(site: SiteModel, measure: Measure, cumulative: Collection[str]) -> dict[Resource, list[str]]:
    """Points judged for a measure, per resource (only `measure.resource` when it names one)."""
    found: dict[Resource, list[str]] = {}
    if measure.scope == "points":
        for point_id in measure.points:
            found.setdefault(site.resource_of(site.point_by_id[point_id]), []).append(point_id)
    elif measure.scope == "tenants":
        for tenant_id in measure.tenants:
            for resource, ids in tenant_points(site, tenant_id, measure.date, cumulative).items():
                judged = found.setdefault(resource, [])
                judged += [i for i in ids if i not in judged]  # two tenants sharing a point count it once
    else:
        assert measure.building is not None  # checked on load
        found = building_points(site, measure.building, cumulative)
    if measure.resource is not None:
        found = {r: ids for r, ids in found.items() if r is measure.resource}
    return found
