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
    """price(point_id, instant) per unit of the point, from the first tariff for the point's resource.

    Electricity, heat and cooling each have their own tariff; an energy meter in MJ (or MWh) is priced by a
    tariff in kWh through the unit's scale. A resource without a tariff is unpriced (None).
    """
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
        if tariff is None:
            return None
        factor = _per_point_unit(point.unit or tariff.unit, tariff.unit)
        if factor is None:
            return None
        cal = calendar(moment.astimezone(info.zone).year)
        version = cal.version_at(tariff, moment)
        if version is None:
            return None
        terms = version[1]
        zone_id = cal.zone_of(terms, moment)
        unit_price = next(z.price for z in terms.zones if z.id == zone_id)
        return None if unit_price is None else unit_price * factor  # None: a dynamic price (prices_csv)

    return price


# tariff units per point unit where the two differ only in scale (1 kWh = 3.6 MJ; 1 MWh = 1000 kWh)
_IN_KWH = {"kWh": Decimal(1), "MWh": Decimal(1000), "Wh": Decimal("0.001"), "MJ": Decimal(1) / Decimal("3.6"),
           "GJ": Decimal(1000) / Decimal("3.6")}  # fmt: skip


def _per_point_unit(point_unit: str, tariff_unit: str) -> Decimal | None:
    """How many tariff units one point unit is: a heat meter in MJ priced by a tariff in kWh pays 1/3.6."""
    if point_unit == tariff_unit:
        return Decimal(1)
    if point_unit in _IN_KWH and tariff_unit in _IN_KWH:
        return _IN_KWH[point_unit] / _IN_KWH[tariff_unit]
    return None
