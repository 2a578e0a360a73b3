"""The tariff price in force at an instant for a point's resource, as billing would charge it.

The zone and version lookup is billing's own (`billing_export.tariff_calendar`), so the money a finding
says was wasted is priced exactly as the tenant's statement prices that energy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from billing_export.tariff_calendar import TariffCalendar, public_holidays
from point_mapping.model import SiteModel
from point_mapping.model.tariffs import Tariff


def price_lookup(site: SiteModel) -> Callable[[str, datetime], Decimal | None]:
    """price(point_id, instant) per unit of the point, from the first tariff for the point's resource."""
    by_resource: dict[str, Tariff] = {}
    for tariff in site.tariffs:
        by_resource.setdefault(tariff.resource.value, tariff)
    info = site.site
    calendars: dict[int, TariffCalendar] = {}  # by local year: holidays are looked up once a year

    def calendar(year: int) -> TariffCalendar:
        if year not in calendars:
            days = public_holidays(info.holidays_country, info.holidays_subdivision, [year])
            calendars[year] = TariffCalendar(info.zone, days)
        return calendars[year]

    def price(point_id: str, moment: datetime) -> Decimal | None:
        point = site.point_by_id.get(point_id)
        if point is None:
            return None
        tariff = by_resource.get(site.resource_of(point).value)
        if tariff is None or (point.unit and point.unit != tariff.unit):
            return None
        cal = calendar(moment.astimezone(info.zone).year)
        version = cal.version_at(tariff, moment)
        if version is None:
            return None
        terms = version[1]
        zone_id = cal.zone_of(terms, moment)
        return next(z.price for z in terms.zones if z.id == zone_id)

    return price
