"""The tariff price in force at an instant for a point's resource (time-of-use windows, site holidays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from decimal import Decimal

import holidays as holidays_lib

from point_mapping.model import SiteModel
from point_mapping.model.tariffs import Tariff, TimeWindow

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _window_holds(window: TimeWindow, local: datetime, holiday: bool) -> bool:
    name = _DAY_NAMES[local.weekday()]
    day_ok = (
        name in window.days
        or ("weekdays" in window.days and local.weekday() < 5 and not holiday)
        or ("weekend" in window.days and local.weekday() >= 5)
        or ("holidays" in window.days and holiday)
    )
    now = local.time().replace(tzinfo=None)
    end_ok = window.end == time(0) or now < window.end
    return day_ok and window.start <= now and end_ok


def price_lookup(site: SiteModel) -> Callable[[str, datetime], Decimal | None]:
    """price(point_id, instant) per unit of the point, from the first tariff for the point's resource."""
    by_resource: dict[str, Tariff] = {}
    for tariff in site.tariffs:
        by_resource.setdefault(tariff.resource.value, tariff)
    info = site.site
    public = (
        holidays_lib.country_holidays(info.holidays_country, subdiv=info.holidays_subdivision)
        if info.holidays_country
        else {}
    )

    def price(point_id: str, moment: datetime) -> Decimal | None:
        point = site.point_by_id.get(point_id)
        if point is None:
            return None
        tariff = by_resource.get(site.resource_of(point).value)
        if tariff is None or (point.unit and point.unit != tariff.unit):
            return None
        local = moment.astimezone(info.zone)
        holiday = local.date() in public
        default = next((z for z in tariff.zones if not z.windows), tariff.zones[-1])
        zone = next((z for z in tariff.zones if any(_window_holds(w, local, holiday) for w in z.windows)), default)
        return Decimal(str(zone.price))  # Decimal in the tariff model; str keeps it exact either way

    return price
