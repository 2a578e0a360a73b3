"""Day-ahead prices per tariff zone as data: the documents an HTTP price source answers, and the cache.

A tariff with `prices_url` is priced from the source's table (docs/billing.md, "Dynamic prices"):

    {"prices": [{"start": "2025-04-01T00:00:00+02:00", "zone": "flat", "price": "0.20"}, ...]}

or the same rows as CSV (`start,zone,price`, as `prices_csv`). Each price is in force from its start
until the zone's next entry, so hourly day-ahead prices price four quarter hours each. Prices are
read as Decimal from their text (a JSON number too, never through a float). Fetching is the
service's job (`bms_bridge.billing.day_ahead`); this module only reads, trims and writes tables.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from billing_export.pricing import DynamicPrices, parse_price_csv


def parse_price_json(text: str, source: str = "<prices>") -> DynamicPrices:
    try:
        document = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError as error:
        raise ValueError(f"{source}: not JSON ({error})") from None
    rows = document.get("prices") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f'{source}: expected an object with a "prices" list of {{start, zone, price}}')
    result = DynamicPrices()
    for number, row in enumerate(rows, start=1):
        where = f"{source}: prices[{number - 1}]"
        if not isinstance(row, dict) or not {"start", "zone", "price"} <= row.keys():
            raise ValueError(f"{where}: each price needs start, zone and price")
        start, price = _start(row["start"], where), _price(row["price"], where)
        try:
            result.add(str(row["zone"]), start, price)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    return result


def parse_price_document(body: bytes, content_type: str, source: str = "<prices>") -> DynamicPrices:
    """A source's answer: CSV when it says text/csv, JSON otherwise."""
    text = body.decode("utf-8-sig")
    if content_type.split(";")[0].strip().lower() == "text/csv":
        return parse_price_csv(text, source)
    return parse_price_json(text, source)


def in_force_during(prices: DynamicPrices, start: datetime, end: datetime) -> DynamicPrices:
    """The entries that price some instant of [start, end): those starting inside, and per zone the
    last one before `start` (still in force at it)."""
    result = DynamicPrices()
    for zone, starts in prices.starts.items():
        for at, (moment, price) in enumerate(zip(starts, prices.prices[zone], strict=True)):
            following = starts[at + 1] if at + 1 < len(starts) else None
            if moment < end and (following is None or following > start):
                result.add(zone, moment, price)
    return result


def merge_into(target: DynamicPrices, other: DynamicPrices, source: str) -> None:
    """Add `other`'s entries; the same entry twice is fine (months share the price in force at their
    boundary), two prices for one start are not."""
    for zone, starts in other.starts.items():
        for moment, price in zip(starts, other.prices[zone], strict=True):
            known = target.price(zone, moment)
            if moment in target.starts.get(zone, ()):
                if known != price:
                    raise ValueError(f"{source}: zone {zone} at {moment.isoformat()} costs {price}, elsewhere {known}")
                continue
            target.add(zone, moment, price)


def price_json(prices: DynamicPrices, **header: Any) -> str:
    """The table as the JSON document above (sorted by zone, then start), with extra header fields."""
    rows = [
        {"start": moment.isoformat(), "zone": zone, "price": format(price, "f")}
        for zone in sorted(prices.starts)
        for moment, price in zip(prices.starts[zone], prices.prices[zone], strict=True)
    ]
    return json.dumps({**header, "prices": rows}, indent=1, sort_keys=True) + "\n"


def _start(value: object, where: str) -> datetime:
    try:
        start = datetime.fromisoformat(str(value).strip())
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if start.tzinfo is None:
        raise ValueError(f"{where}: give the start with its UTC offset, e.g. 2024-03-01T00:00:00+01:00")
    return start


def _price(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, Decimal)):
        raise ValueError(f"{where}: price {value!r} is not a number")
    try:
        price = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{where}: price {value!r} is not a number") from None
    if not price.is_finite():
        raise ValueError(f"{where}: price {value!r} is not a number")
    return price
