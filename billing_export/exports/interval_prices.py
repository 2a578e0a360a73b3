"""The unit price of each 15-minute interval of a contract's point, for Green Button interval costs.

The same lookup `pricing.price_slots` makes per slot (tariff version in force, time-of-use zone in
local time, fixed or dynamic price), kept per interval instead of summed per zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from billing_export.close import calendar_for
from billing_export.period import Period
from billing_export.pricing import DynamicPrices, PricingError
from metering.readings import Interval
from point_mapping.model import Contract, SiteModel


def interval_prices(
    site: SiteModel,
    period: Period,
    contract: Contract,
    point_id: str,
    intervals: Sequence[Interval],
    dynamic: Mapping[str, DynamicPrices] | None = None,
) -> list[Decimal]:
    """Price per billing unit of each interval, in order; raises `PricingError` where none applies."""
    calendar = calendar_for(site, period)
    resource = site.resource_of(site.point_by_id[point_id])
    tariff_id = contract.tariffs.get(resource)
    if tariff_id is None:
        raise PricingError(f"contract {contract.id} bills {resource.value} but names no tariff for it")
    tariff = site.tariff_by_id[tariff_id]
    table = (dynamic or {}).get(tariff.id)
    result = []
    for interval in intervals:
        found = calendar.version_at(tariff, interval.start)
        if found is None:
            raise PricingError(f"tariff {tariff.id} has no version in force at {interval.start.isoformat()}")
        terms = found[1]
        zone_id = calendar.zone_of(terms, interval.start)
        price: Decimal | None
        if not terms.dynamic:
            price = next(z.price for z in terms.zones if z.id == zone_id)
        else:
            price = table.price(zone_id, interval.start) if table is not None else None
        if price is None:
            raise PricingError(f"tariff {tariff.id}: no dynamic price for zone {zone_id} at {interval.start}")
        result.append(price)
    return result
