"""Which tariff zone and which tariff version a 15-minute slot falls in, in the site's local time.

Slots start on UTC quarter hours, which are local quarter hours in every zone in use (offsets are
multiples of 15 min), and zone windows and version changes are checked to lie on quarter hours: so a
slot belongs wholly to one zone and one version, judged by its local start. DST needs no special case:
the local start of each instant is taken from the zone database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import holidays

from point_mapping.model.tariffs import Tariff, TariffTerms
from point_mapping.tariff_checks import day_kinds, minutes

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def public_holidays(country: str | None, subdivision: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of the site's calendar (the `holidays` package; none without a country)."""
    if country is None:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=list(years)).keys())


@dataclass(frozen=True)
class TariffCalendar:
    zone: ZoneInfo
    holidays: frozenset[date]
    # Every metering point of a month asks about the same quarter hours: answers are kept per
    # (terms or tariff object, instant). Tariffs are frozen models that live as long as the site model.
    _zones: dict[tuple[int, datetime], str] = field(default_factory=dict, compare=False, repr=False)
    _versions: dict[tuple[int, datetime], tuple[int, TariffTerms] | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    _kept: dict[int, object] = field(default_factory=dict, compare=False, repr=False)  # ids stay unique while kept

    def day_of(self, local: datetime) -> str:
        return "holidays" if local.date() in self.holidays else _WEEKDAYS[local.weekday()]

    def zone_of(self, terms: TariffTerms, instant: datetime) -> str:
        """The id of the zone in force at `instant` (aware)."""
        key = (id(terms), instant)
        found = self._zones.get(key)
        if found is None:
            self._kept.setdefault(key[0], terms)
            found = self._zones[key] = self._zone_of(terms, instant)
        return found

    def _zone_of(self, terms: TariffTerms, instant: datetime) -> str:
        local = instant.astimezone(self.zone)
        day = self.day_of(local)
        minute = local.hour * 60 + local.minute
        default: str | None = None
        for zone in terms.zones:
            if not zone.windows:
                default = zone.id
            for window in zone.windows:
                first, last = minutes(window.start, window.end)
                if day in day_kinds(window.days) and first <= minute < last:
                    return zone.id
        if default is None:  # `check` rejects tariffs with gaps; this only guards unchecked models
            raise ValueError(f"no zone covers {local.isoformat()}")
        return default

    def local_instant(self, local: datetime) -> datetime:
        """A naive local time as an aware instant; in a DST gap or fold the first reading is taken."""
        return local.replace(tzinfo=self.zone)

    def version_at(self, tariff: Tariff, instant: datetime) -> tuple[int, TariffTerms] | None:
        """(index in `tariff.terms()`, terms) in force at `instant`, or None if none is."""
        key = (id(tariff), instant)
        if key not in self._versions:
            self._kept.setdefault(key[0], tariff)
            self._versions[key] = self._version_at(tariff, instant)
        return self._versions[key]

    def _version_at(self, tariff: Tariff, instant: datetime) -> tuple[int, TariffTerms] | None:
        for index, (start, end, terms) in enumerate(tariff.terms()):
            if start is not None and instant < self.local_instant(start):
                continue
            if end is not None and instant >= self.local_instant(end):
                continue
            return index, terms
        return None

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)
