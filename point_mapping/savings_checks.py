"""References of the `measures:`, `savings:` and `emission_factors:` sections, checked on load."""

from __future__ import annotations

from point_mapping.errors import SiteProblem
from point_mapping.locator import Locator
from point_mapping.model import SiteModel


def check_savings(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    points = {p.id for p in site.points}
    tenants = {t.id for t in site.tenants}
    buildings = {b.id for b in site.buildings}
    seen: dict[str, int] = {}
    for index, measure in enumerate(site.measures):
        if measure.id in seen:
            first = at.at("measures", seen[measure.id], "id")
            problems.append(
                at.problem(("measures", index, "id"), f"duplicate measure id '{measure.id}' (first defined at {first})")
            )
        seen.setdefault(measure.id, index)
        for k, point_id in enumerate(measure.points):
            if point_id not in points:
                problems.append(at.problem(("measures", index, "points", k), f"unknown point '{point_id}'"))
        for k, tenant_id in enumerate(measure.tenants):
            if tenant_id not in tenants:
                problems.append(at.problem(("measures", index, "tenants", k), f"unknown tenant '{tenant_id}'"))
        if measure.building is not None and measure.building not in buildings:
            problems.append(at.problem(("measures", index, "building"), f"unknown building '{measure.building}'"))
    source = site.savings.outdoor_temperature
    if source is not None and source.bms_point is not None and source.bms_point not in {p.id for p in site.bms_points}:
        problems.append(
            at.problem(("savings", "outdoor_temperature", "bms_point"), f"unknown BMS point '{source.bms_point}'")
        )
    factors: dict[tuple[str, int], int] = {}
    for index, factor in enumerate(site.emission_factors):
        key = (factor.resource.value, factor.year)
        if key in factors:
            first = at.at("emission_factors", factors[key], "resource")
            problems.append(
                at.problem(
                    ("emission_factors", index, "year"),
                    f"a second {factor.resource.value} factor for {factor.year} (first defined at {first})",
                )
            )
        factors.setdefault(key, index)
    return problems
