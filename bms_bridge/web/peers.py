"""A tenant against similar tenants per m²: same main use of its leased spaces (offices, retail, ...),
consumption of one resource in a month divided by leased area.

This is the one computation that reads other tenants' consumption on a tenant's behalf, so it is
computed over the whole site and what leaves here is decided by `Scope.peer_names_visible`: for a
tenant user, anonymous per-m² figures only, and none at all when fewer than MIN_PEERS tenants are
similar (three figures cannot be traced back to one neighbour the way two could).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from billing_export.period import Period
from bms_bridge.web.scope import Window, lease_window
from point_mapping.model import Contract, SiteModel

MIN_PEERS = 3  # other tenants, besides the one compared
NOT_A_MAIN_USE = frozenset({"common", "technical", "server", "parking"})  # say nothing of the business


@dataclass(frozen=True)
class TenantTerm:
    point_id: str
    share: float
    window: Window  # the lease, clipped to the month


@dataclass(frozen=True)
class TenantInMonth:
    tenant_id: str
    use: str
    area_m2: float  # leased in the month (every contract in force, whole spaces)
    terms: list[TenantTerm]


def _overlap(a: Window, b: Window) -> Window | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo < hi else None


def tenants_in_month(
    site: SiteModel, month: Period, now: datetime, resource: str, points_of: dict[str, str]
) -> list[TenantInMonth]:
    """Every tenant with a contract in force in the month (up to `now`), its main use, area and terms
    for `resource`. `points_of` maps point id -> resource."""
    span = (month.start, min(month.end, now))
    contracts: dict[str, list[tuple[Contract, Window]]] = {}
    for contract in site.contracts:
        window = _overlap(lease_window(contract, site.site.zone), span)
        if window is not None:
            contracts.setdefault(contract.tenant, []).append((contract, window))
    result = []
    for tenant_id, held in sorted(contracts.items()):
        uses: Counter[str] = Counter()
        area = 0.0
        for contract, _window in held:
            for space_id in contract.spaces:
                space = site.space_by_id.get(space_id)
                if space is not None:
                    area += space.area_m2
                    if space.use not in NOT_A_MAIN_USE:
                        uses[space.use] += int(space.area_m2)
        if area <= 0 or not uses:
            continue
        terms = [
            TenantTerm(share.point, share.share, window)
            for contract, window in held
            for share in contract.points
            if points_of.get(share.point) == resource
        ]
        result.append(TenantInMonth(tenant_id, uses.most_common(1)[0][0], area, terms))
    return result
