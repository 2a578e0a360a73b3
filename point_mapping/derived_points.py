"""Points the bridge derives from billing and exposes beside the meter points (no meter of their own).

With `exposure.month_to_date`, every contract with tariffs gets, per resource it is billed for and per
zone of that resource's tariff (every version's zones, in the order written), its month-to-date
consumption, and one point for its cost so far. Their ids come from the YAML alone, so their BACnet
instances are locked like every exposed point's (`point_mapping.identifiers`):

    mtd.<contract>.<resource>.<zone>   consumption in the tariff's unit
    mtd.<contract>.cost                net cost so far in the site's currency
"""

from __future__ import annotations

from dataclasses import dataclass

from point_mapping.model import SiteModel

PREFIX = "mtd"


@dataclass(frozen=True)
class MonthToDatePoint:
    id: str
    contract: str
    tenant: str
    resource: str | None  # None: the cost point
    zone: str | None
    unit: str  # the tariff's unit; "" for the cost (its currency is in the name)


def month_to_date_points(site: SiteModel) -> list[MonthToDatePoint]:
    if not site.exposure.month_to_date:
        return []
    found: list[MonthToDatePoint] = []
    for contract in site.contracts:
        if not contract.tariffs:
            continue
        for resource, tariff_id in contract.tariffs.items():
            tariff = site.tariff_by_id.get(tariff_id)
            if tariff is None:
                continue
            zones: list[str] = []
            for _, _, terms in tariff.terms():
                zones += [z.id for z in terms.zones if z.id not in zones]
            for zone in zones:
                point_id = f"{PREFIX}.{contract.id}.{resource.value}.{zone}"
                point = MonthToDatePoint(point_id, contract.id, contract.tenant, resource.value, zone, tariff.unit)
                found.append(point)
        found.append(MonthToDatePoint(f"{PREFIX}.{contract.id}.cost", contract.id, contract.tenant, None, None, ""))
    return found
