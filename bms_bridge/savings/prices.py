"""The price per unit of a point at an instant: a tenant's own tariff plan, else the resource's first one.

The zone and version lookup is billing's (`billing_export.tariff_calendar`), as for HVAC findings
(`bms_bridge/hvac/prices.py`), so a forecast's money is priced as the tenant's statement will be.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from billing_export.tariff_calendar import TariffCalendar, public_holidays
from bms_bridge.hvac.prices import price_lookup
from point_mapping.model import SiteModel, Tariff

Price = Callable[[str, datetime], Decimal | None]


def tenant_tariffs(site: SiteModel, tenant_id: str, day: date) -> dict[str, Tariff]:
    """resource -> the tariff of the tenant's contract in force on `day` that names one."""
    found: dict[str, Tariff] = {}
    for contract in site.contracts:
        if contract.tenant != tenant_id or contract.start > day or (contract.end is not None and contract.end < day):
            continue
        for resource, tariff_id in contract.tariffs.items():
            if tariff_id in site.tariff_by_id:
                found.setdefault(resource.value, site.tariff_by_id[tariff_id])
    return found


def subject_price(site: SiteModel, tariffs: dict[str, Tariff]) -> Price:
    """Prices from `tariffs` by the point's resource; a resource they do not name falls back to the site's."""
    fallback = price_lookup(site)
    info = site.site
    calendars: dict[int, TariffCalendar] = {}

    def calendar(year: int) -> TariffCalendar:
        if year not in calendars:
            days = public_holidays(info.holidays_country, info.holidays_subdivision, [year])
            calendars[year] = TariffCalendar(info.zone, days)
        return calendars[year]

    def price(point_id: str, moment: datetime) -> Decimal | None:
        point = site.point_by_id.get(point_id)
        tariff = tariffs.get(site.resource_of(point).value) if point is not None else None
        if point is None or tariff is None:
            return fallback(point_id, moment)
        if point.unit and point.unit != tariff.unit:
            return None
        cal = calendar(moment.astimezone(info.zone).year)
        version = cal.version_at(tariff, moment)
        if version is None:
            return None
        zone_id = cal.zone_of(version[1], moment)
        return next(z.price for z in version[1].zones if z.id == zone_id)

    return price
