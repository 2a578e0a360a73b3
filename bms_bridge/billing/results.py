"""Billing results back to the BMS: tenants' month-to-date consumption and cost as exposed points.

The points (`point_mapping.derived_points`) are BACnet large analog values (Double) and OPC UA variables in the
tenant's folder beside its meter points, with instances from `identifiers.lock.yaml`. The service
computes their values (`billing_export.month_to_date`) at start and every
`exposure.month_to_date_refresh`, from the stored intervals, and pushes them through the exposure
feed; a failing computation (a dynamic price not published yet) is logged and the values age stale.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from billing_export.month_to_date import current_period, month_to_date
from billing_export.source import StoreIntervalSource
from bms_bridge.billing.day_ahead import dynamic_prices
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.points import ExposedPoint
from metering.clock import Clock
from metering.store import Store
from point_mapping.derived_points import MonthToDatePoint, month_to_date_points
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

FOLDER = "Month to date"


def _describe(site: LoadedSite, point: MonthToDatePoint) -> tuple[str, str]:
    """(name, description) of a month-to-date point."""
    model = site.model
    tenant = model.tenant_by_id[point.tenant].name if point.tenant in model.tenant_by_id else point.tenant
    if point.resource is None:
        name = f"{tenant}.{FOLDER}.{point.contract}.cost"
        text = f"cost so far this month, {model.site.currency} net of VAT, without fixed fees — {tenant}"
        return name, text
    zone = point.zone or ""
    tariff_id = next((c.tariffs for c in model.contracts if c.id == point.contract), {})
    zone_name = next(
        (
            z.name or z.id
            for t in model.tariffs
            if t.id in tariff_id.values() and t.resource.value == point.resource
            for _, _, terms in t.terms()
            for z in terms.zones
            if z.id == zone
        ),
        zone,
    )
    name = f"{tenant}.{FOLDER}.{point.contract}.{point.resource}.{zone}"
    return name, f"{point.resource} this month so far, zone {zone_name} ({point.unit}) — {tenant}"


def _building(site: LoadedSite, contract_id: str) -> str:
    model = site.model
    contract = next(c for c in model.contracts if c.id == contract_id)
    buildings = {model.building_of_space[s].name for s in contract.spaces if s in model.building_of_space}
    return buildings.pop() if len(buildings) == 1 else model.site.name


def month_to_date_exposed(site: LoadedSite) -> list[ExposedPoint]:
    model = site.model
    found = []
    for point in month_to_date_points(model):
        name, description = _describe(site, point)
        tenant = model.tenant_by_id[point.tenant].name if point.tenant in model.tenant_by_id else point.tenant
        found.append(
            ExposedPoint(
                point_id=point.id,
                name=name[:200],
                description=description[:250],
                unit=point.unit,
                cumulative=False,
                bacnet_object="large-analog-value",  # a Double: cents stay exact (a REAL has 24 bits)
                bacnet_instance=site.identifiers.bacnet_instance[point.id],
                opcua_node_id=site.identifiers.opcua_node_id[point.id],
                path=(model.site.name, _building(site, point.contract), tenant, FOLDER),
            )
        )
    return found


class MonthToDateResults:
    def __init__(self, site: LoadedSite, clock: Clock) -> None:
        self.site = site
        self.clock = clock
        self.points = month_to_date_exposed(site)

    async def refresh(self, store: Store, feed: ExposureFeed) -> int:
        """Compute every value now and push it to the BMS; the number of values pushed."""
        now = self.clock()
        period = current_period(self.site.model, now)
        dynamic = await dynamic_prices(self.site, period, now)
        values = await month_to_date(self.site.model, now, StoreIntervalSource(store), dynamic)
        await feed.on_values({point_id: (now, float(value)) for point_id, value in values.items()})
        return len(values)

    async def run(self, store: Store, feed: ExposureFeed, every: timedelta) -> None:
        """At start and then every `every`, until cancelled."""
        while True:
            try:
                count = await self.refresh(store, feed)
                log.info("month-to-date: %d values for the BMS", count)
            except Exception:
                log.exception("month-to-date values not computed; will retry")
            await asyncio.sleep(every.total_seconds())
