"""Consumption priced by tariff zone and version; dynamic zone prices from a CSV.

Two ways in, same numbers: `price_slots` prices quarter hour by quarter hour (a slot's quantity is
already the contract's part of it: share and occupancy applied); `price_spans` prices a point's sums
over spans in which no tariff changes zone, version or price (`price_changes` finds those instants
once per period, not per point), which is how a close prices its metering points. Usage is summed
per (version, zone); a version change mid-period therefore gives separate lines at the exact
quarter hour it takes effect.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from billing_export.money import ZERO
from billing_export.tariff_calendar import TariffCalendar
from metering.quanta import QUANTUM_PLACES, SpanSum
from metering.readings import Quality
from point_mapping.model.tariffs import Tariff, TariffTerms

# Intervals that are not plain measurements count toward a line's "estimated or corrected" share.
NOT_MEASURED = frozenset({Quality.ESTIMATED, Quality.MANUAL, Quality.CORRECTED, Quality.QUESTIONABLE})
SLOT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # aware UTC quarter hour
    quantity: Decimal
    quality: Quality = Quality.MEASURED


class PricingError(ValueError):
    """A slot has no tariff version or no price."""


@dataclass
class DynamicPrices:
    """Prices per zone, each in force from its start until the zone's next entry."""

    starts: dict[str, list[datetime]] = field(default_factory=dict)
    prices: dict[str, list[Decimal]] = field(default_factory=dict)

    def add(self, zone: str, start: datetime, price: Decimal) -> None:
        starts = self.starts.setdefault(zone, [])
        prices = self.prices.setdefault(zone, [])
        at = bisect.bisect_left(starts, start)
        if at < len(starts) and starts[at] == start:
            raise ValueError(f"two prices for zone {zone} at {start.isoformat()}")
        starts.insert(at, start)
        prices.insert(at, price)

    def price(self, zone: str, instant: datetime) -> Decimal | None:
        starts = self.starts.get(zone, [])
        at = bisect.bisect_right(starts, instant) - 1
        return self.prices[zone][at] if at >= 0 else None


def parse_price_csv(text: str, source: str = "<prices>") -> DynamicPrices:
    """Rows `start,zone,price`; `start` ISO 8601 with its UTC offset (e.g. day-ahead hourly prices)."""
    result = DynamicPrices()
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"start", "zone", "price"} <= set(reader.fieldnames):
        raise ValueError(f"{source}:1: the header must name the columns start,zone,price")
    for row in reader:
        where = f"{source}:{reader.line_num}"
        try:
            start = datetime.fromisoformat(row["start"].strip())
            price = Decimal(row["price"].strip())
        except (ValueError, InvalidOperation) as error:
            raise ValueError(f"{where}: {error}") from None
        if start.tzinfo is None:
            raise ValueError(f"{where}: give the start with its UTC offset, e.g. 2024-03-01T00:00:00+01:00")
        if not price.is_finite():
            raise ValueError(f"{where}: price {row['price']!r} is not a number")
        result.add(row["zone"].strip(), start, price)
    return result


@dataclass
class ZoneUsage:
    version: int
    terms: TariffTerms
    zone: str
    quantity: Decimal = ZERO
    cost: Decimal = ZERO  # unrounded Σ quantity × price (used for dynamic prices)
    not_measured: Decimal = ZERO
    fixed_price: Decimal | None = None


def price_slots(
    slots: Iterable[Slot], tariff: Tariff, calendar: TariffCalendar, dynamic: DynamicPrices | None = None
) -> list[ZoneUsage]:
    """Usage per (version, zone) in the order versions and zones are declared."""
    usage: dict[tuple[int, str], ZoneUsage] = {}
    for slot in slots:
        found = calendar.version_at(tariff, slot.start)
        if found is None:
            raise PricingError(f"tariff {tariff.id} has no version in force at {slot.start.isoformat()}")
        version, terms = found
        zone_id = calendar.zone_of(terms, slot.start)
        entry = usage.get((version, zone_id))
        if entry is None:
            zone = next(z for z in terms.zones if z.id == zone_id)
            fixed = None if terms.dynamic else zone.price
            entry = usage[(version, zone_id)] = ZoneUsage(version, terms, zone_id, fixed_price=fixed)
        price = entry.fixed_price
        if price is None:
            price = dynamic.price(zone_id, slot.start) if dynamic is not None else None
            if price is None:
                raise PricingError(f"tariff {tariff.id}: no dynamic price for zone {zone_id} at {slot.start}")
        entry.quantity += slot.quantity
        entry.cost += slot.quantity * price
        if slot.quality in NOT_MEASURED:
            entry.not_measured += slot.quantity
    return _in_declared_order(tariff, usage)


def _in_declared_order(tariff: Tariff, usage: Mapping[tuple[int, str], ZoneUsage]) -> list[ZoneUsage]:
    order = {(v, z.id): (v, k) for v, (_, _, terms) in enumerate(tariff.terms()) for k, z in enumerate(terms.zones)}
    return [usage[key] for key in sorted(usage, key=lambda key: order[key])]


@dataclass(frozen=True, slots=True)
class SpanPrice:
    """What a tariff charges from an instant on: its version, zone and unit price (None: no dynamic price)."""

    version: int
    terms: TariffTerms
    zone: str
    price: Decimal | None
    fixed: bool


def price_at(
    tariff: Tariff, calendar: TariffCalendar, dynamic: DynamicPrices | None, instant: datetime
) -> SpanPrice | None:
    """None where no version of `tariff` is in force."""
    found = calendar.version_at(tariff, instant)
    if found is None:
        return None
    version, terms = found
    zone_id = calendar.zone_of(terms, instant)
    if not terms.dynamic:
        return SpanPrice(version, terms, zone_id, next(z.price for z in terms.zones if z.id == zone_id), True)
    price = dynamic.price(zone_id, instant) if dynamic is not None else None
    return SpanPrice(version, terms, zone_id, price, False)


def price_changes(
    tariffs: Iterable[Tariff],
    calendar: TariffCalendar,
    dynamic: Mapping[str, DynamicPrices],
    start: datetime,
    end: datetime,
) -> set[datetime]:
    """Quarter hours in (start, end) at which some tariff's version, zone or price changes."""
    result: set[datetime] = set()
    for tariff in tariffs:
        table = dynamic.get(tariff.id)
        before = price_at(tariff, calendar, table, start)
        at = start + SLOT
        while at < end:
            now = price_at(tariff, calendar, table, at)
            if _key(now) != _key(before):
                result.add(at)
            before, at = now, at + SLOT
    return result


def _key(price: SpanPrice | None) -> tuple[int, str, Decimal | None] | None:
    return None if price is None else (price.version, price.zone, price.price)


def price_spans(
    sums: Sequence[SpanSum | None], prices: Sequence[SpanPrice | None], share: Decimal, tariff: Tariff
) -> list[ZoneUsage] | None:
    """Usage per (version, zone) of a point's sums per span at `share` percent, the same numbers
    `price_slots` gives from its slots; None if a span with intervals has no version or no price
    (`price_slots` then says which quarter hour)."""
    totals: dict[tuple[int, str], list[int]] = {}
    per_price: dict[tuple[int, str], dict[Decimal, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[tuple[int, str], SpanPrice] = {}
    for span_sum, span_price in zip(sums, prices, strict=True):
        if span_sum is None:
            continue
        if span_price is None or span_price.price is None:
            return None
        key = (span_price.version, span_price.zone)
        first.setdefault(key, span_price)
        running = totals.setdefault(key, [0, 0])
        running[0] += span_sum.total
        running[1] += span_sum.not_measured
        per_price[key][span_price.price] += span_sum.total
    usage = {}
    for key, (quantity, not_measured) in totals.items():
        head = first[key]
        cost = sum((_part(quanta, share) * price for price, quanta in per_price[key].items()), ZERO)
        fixed = head.price if head.fixed else None
        usage[key] = ZoneUsage(
            key[0], head.terms, key[1], _part(quantity, share), cost, _part(not_measured, share), fixed_price=fixed
        )
    return _in_declared_order(tariff, usage)


def _part(quanta: int, share: Decimal) -> Decimal:
    return Decimal(quanta).scaleb(-QUANTUM_PLACES) * share / 100
