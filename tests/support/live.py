"""Live virtual totals for tests that build an `ExposureFeed` without a store."""

from __future__ import annotations

from metering.exchanges import MeterExchange
from metering.live_virtual import LiveTotals, live_totals
from point_mapping.loader import LoadedSite


class NoExchanges:
    async def exchanges(self, meter_id: str) -> list[MeterExchange]:
        return []


async def site_live_totals(site: LoadedSite, *only: str) -> LiveTotals:
    """The site's live virtual totals (YAML exchanges only), or just the virtual points named."""
    totals = await live_totals(site, NoExchanges())
    if not only:
        return totals
    return LiveTotals({k: v for k, v in totals.formulas.items() if k in only}, totals.counters)
