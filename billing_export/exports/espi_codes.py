"""NAESB REQ.21 ESPI (Green Button) codes for our resources, units, currencies and time zone rules.

Each table cites the ESPI schema's enumeration it takes codes from (usage.xsd in espi_schema/).
docs/espi.md explains the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from point_mapping.model.meters import Resource


class EspiError(ValueError):
    """Something a Green Button feed cannot carry (an unknown unit or currency, duplicate intervals)."""


@dataclass(frozen=True)
class ResourceCodes:
    service_kind: int  # ServiceKind: 0 electricity, 1 gas, 2 water, 4 heat
    commodity: int  # CommodityKind
    measurement_kind: int  # MeasurementKind: 12 energy, 58 volume


# ESPI has no cooling service: chilled-water energy is a thermal service (heat, 4) with commodity
# coolingFluid (13). Hot water is potable water heated, still water service with potableWater (9).
RESOURCES: dict[str, ResourceCodes] = {
    Resource.ELECTRICITY.value: ResourceCodes(0, 1, 12),  # commodity 1: electricity, secondary metered
    Resource.GAS.value: ResourceCodes(1, 7, 58),  # naturalGas, by volume
    Resource.COLD_WATER.value: ResourceCodes(2, 9, 58),  # potableWater
    Resource.HOT_WATER.value: ResourceCodes(2, 9, 58),
    Resource.HEAT.value: ResourceCodes(4, 12, 12),  # heatingFluid
    Resource.COOLING.value: ResourceCodes(4, 13, 12),  # coolingFluid
}


@dataclass(frozen=True)
class UnitCode:
    uom: int  # UnitSymbolKind: 72 Wh, 42 m3
    exponent: int  # the billing unit is 10**exponent of `uom` (kWh = 10**3 Wh)


UNITS: dict[str, UnitCode] = {
    "Wh": UnitCode(72, 0),
    "kWh": UnitCode(72, 3),
    "MWh": UnitCode(72, 6),
    "m3": UnitCode(42, 0),
}

# ISO 4217 numeric codes (ReadingType.currency); the schema's Currency type accepts any UInt16.
CURRENCIES: dict[str, int] = {
    "EUR": 978,
    "USD": 840,
    "GBP": 826,
    "CHF": 756,
    "CZK": 203,
    "DKK": 208,
    "HUF": 348,
    "JPY": 392,
    "NOK": 578,
    "PLN": 985,
    "RON": 946,
    "SEK": 752,
}

ACCUMULATION_DELTA = 4  # AccumulationKind deltaData: each value is the consumption of its interval
DATA_QUALIFIER_NORMAL = 12  # DataQualifierKind normal
FLOW_FORWARD = 1  # FlowDirectionKind forward: delivered to the tenant
MEASURING_PERIOD_15_MIN = 2  # TimeAttributeKind fifteenMinute
TIME_ATTRIBUTE_NONE = 0  # TimePeriodOfInterest none
QUALITY_VALID = 0  # QualityOfReading valid: passed validation (metering.counters)
DST_DISABLED = 0xFFFFFFFF  # DstRuleType: no daylight saving time


def resource_codes(resource: str) -> ResourceCodes:
    try:
        return RESOURCES[resource]
    except KeyError:
        raise EspiError(f"resource {resource!r} has no Green Button service kind") from None


def unit_code(unit: str) -> UnitCode:
    try:
        return UNITS[unit]
    except KeyError:
        known = ", ".join(UNITS)
        raise EspiError(f"unit {unit!r} has no Green Button unit of measure (known: {known})") from None


def currency_code(currency: str) -> int:
    try:
        return CURRENCIES[currency]
    except KeyError:
        raise EspiError(f"currency {currency!r} has no ISO 4217 numeric code in the ESPI exporter") from None


@dataclass(frozen=True)
class LocalTimeRules:
    """LocalTimeParameters: standard offset, DST offset and the DST start and end rules."""

    tz_offset: int  # seconds east of UTC, standard time
    dst_offset: int  # seconds added while DST is in force
    dst_start_rule: int
    dst_end_rule: int


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of every UTC offset change in `year`."""
    result = []
    at, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    before = at.astimezone(zone).utcoffset() or timedelta(0)
    while at < end:
        later = at + timedelta(hours=1)
        after = later.astimezone(zone).utcoffset() or timedelta(0)
        if after != before:
            lo, hi = at, later  # the change is in (lo, hi]: narrow it down to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if (mid.astimezone(zone).utcoffset() or timedelta(0)) == before:
                    lo = mid
                else:
                    hi = mid
            result.append((hi.replace(microsecond=0), before, after))
            before = after
        at = later
    return result


def dst_rule(instant: datetime, offset_before: timedelta) -> int:
    """DstRuleType for a change at `instant`, as the wall clock read just before it.

    Bits 0-11 seconds, 12-16 hour, 17-19 weekday (Monday 1), 20-24 day of month (0: by weekday),
    25-27 operator (2-6: first to fifth such weekday of the month, 7: the last), 28-31 month.
    """
    wall = (instant + offset_before).replace(tzinfo=None)
    next_month = wall.replace(day=28) + timedelta(days=4)
    days_in_month = (next_month - timedelta(days=next_month.day)).day
    operator = 7 if wall.day + 7 > days_in_month else 2 + (wall.day - 1) // 7
    seconds = wall.minute * 60 + wall.second
    return (wall.month << 28) | (operator << 25) | (wall.isoweekday() << 17) | (wall.hour << 12) | seconds


def local_time_rules(zone: ZoneInfo, year: int) -> LocalTimeRules:
    """The zone's rules in `year`; e.g. Europe/Berlin: +3600 s, DST +3600 s from the last Sunday of
    March 02:00 to the last Sunday of October 03:00 (wall clock), rules 3E0E2000 and AE0E3000."""
    changes = _transitions(zone, year)
    starts = [c for c in changes if c[2] > c[1]]
    ends = [c for c in changes if c[2] < c[1]]
    if len(starts) != 1 or len(ends) != 1:  # no DST, or a zone changing its rules that year
        standard = datetime(year, 1, 1, tzinfo=UTC).astimezone(zone)
        offset = (standard.utcoffset() or timedelta(0)) - (standard.dst() or timedelta(0))
        return LocalTimeRules(int(offset.total_seconds()), 0, DST_DISABLED, DST_DISABLED)
    start, end = starts[0], ends[0]
    return LocalTimeRules(
        tz_offset=int(end[2].total_seconds()),
        dst_offset=int((start[2] - start[1]).total_seconds()),
        dst_start_rule=dst_rule(start[0], start[1]),
        dst_end_rule=dst_rule(end[0], end[1]),
    )
