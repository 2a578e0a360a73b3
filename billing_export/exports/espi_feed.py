"""One metering point of one statement as a Green Button (NAESB REQ.21 ESPI) Atom feed.

The feed holds, as Atom entries: the UsagePoint (the point as the tenant's service), its
LocalTimeParameters, one MeterReading with its ReadingType, and one IntervalBlock per local day with
an IntervalReading per 15-minute interval (value, cost, and a ReadingQuality when the interval is not
plainly measured). docs/espi.md describes every code and scale; `espi_validation` checks a feed
against the schema.

Values are the contract's part of the point: the interval times the statement line's share, so the
readings of a point at 100 % add up to the statement's quantity exactly (in 1/1000 of the billing
unit, the resolution billing works in; finer for a share, see `value_places`). Costs are quantity ×
unit price in hundred-thousandths of the currency, rounded half-up per interval; the statement's
rounded lines stay what is billed.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby, pairwise
from urllib.parse import quote
from zoneinfo import ZoneInfo

from billing_export.exports.espi_codes import (
    ACCUMULATION_DELTA,
    DATA_QUALIFIER_NORMAL,
    FLOW_FORWARD,
    MEASURING_PERIOD_15_MIN,
    QUALITY_VALID,
    TIME_ATTRIBUTE_NONE,
    EspiError,
    currency_code,
    local_time_rules,
    resource_codes,
    unit_code,
)
from billing_export.money import QUANTITY_PLACES, quantity
from billing_export.period import local_midnight
from billing_export.statement import LineKind, Statement, StatementLine
from metering.readings import Interval, Quality

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
INTERVAL_SECONDS = 900
MAX_VALUE_PLACES = 9
COST_PLACES = 5  # IntervalReading.cost: hundred-thousandths of the currency
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bms-bridge:espi")
_ONE = Decimal(1)

ET.register_namespace("", ATOM)
ET.register_namespace("espi", ESPI)


def _a(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def _e(tag: str) -> str:
    return f"{{{ESPI}}}{tag}"


def _add(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = str(text)
    return child


def _scaled(value: Decimal, places: int) -> int:
    return int(value.scaleb(places).quantize(_ONE, rounding=ROUND_HALF_UP))


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _atom_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def value_places(share_percent: Decimal) -> int:
    """Decimal places of the billing unit that values are integers of.

    A whole point: QUANTITY_PLACES (3, Wh or L), exactly billing's resolution. A contract's share of a
    point: enough places for quantity × share / 100 to be exact, rounded up to a multiple of 3 so the
    multiplier is an SI prefix (50 % -> 6, 3.81 % -> 9), at most 9: rounding a small share of a
    common meter to whole Wh or L would lose most of it.
    """
    if share_percent == 100:
        return QUANTITY_PLACES
    exponent = share_percent.normalize().as_tuple().exponent
    share_places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    exact = QUANTITY_PLACES + share_places + 2
    return min(MAX_VALUE_PLACES, -(-exact // 3) * 3)


def point_lines(statement: Statement, point_id: str) -> list[StatementLine]:
    """The statement's energy lines of `point_id` (one per tariff version and zone)."""
    return [line for line in statement.lines if line.kind is LineKind.ENERGY and line.point_id == point_id]


class _Feed:
    """Builds the Atom document; every id is a UUID derived from the statement, point and resource."""

    def __init__(
        self, statement: Statement, point_id: str, line: StatementLine, zone: ZoneInfo, updated: datetime
    ) -> None:
        self.statement, self.point_id, self.line, self.zone = statement, point_id, line, zone
        self.stamp = _atom_time(updated)
        self.root = ET.Element(_a("feed"))
        tenant, point = quote(statement.tenant, safe=""), quote(self.point_id, safe="")
        self.usage_point = f"/espi/1_1/resource/RetailCustomer/{tenant}/UsagePoint/{point}"
        self.reading = f"{self.usage_point}/MeterReading/1"
        self.reading_type = f"/espi/1_1/resource/ReadingType/{self.urn('ReadingType').removeprefix('urn:uuid:')}"
        self.time_rules = f"/espi/1_1/resource/LocalTimeParameters/{quote(zone.key, safe='')}"
        _add(self.root, _a("id"), self.urn("feed"))
        _add(self.root, _a("title"), f"{statement.tenant} {self.point_id} {statement.period}")
        _add(self.root, _a("updated"), self.stamp)
        self.link(self.root, "self", f"/espi/1_1/resource/Batch/Statement/{quote(statement.id, safe='')}", "Feed")

    def urn(self, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_IDS, f'{self.statement.id}|{self.point_id}|{name}')}"

    @staticmethod
    def link(parent: ET.Element, rel: str, href: str, kind: str) -> None:
        ET.SubElement(parent, _a("link"), {"rel": rel, "href": href, "type": f"espi-entry/{kind}"})

    def entry(self, name: str, title: str, links: Sequence[tuple[str, str, str]]) -> ET.Element:
        """An entry with its links; returns the element to put the ESPI resource in."""
        entry = _add(self.root, _a("entry"))
        _add(entry, _a("id"), self.urn(name))
        for rel, href, kind in links:
            self.link(entry, rel, href, kind)
        _add(entry, _a("title"), title)
        content = _add(entry, _a("content"))
        _add(entry, _a("published"), self.stamp)
        _add(entry, _a("updated"), self.stamp)
        return content

    def add_usage_point(self) -> None:
        line, share = self.line, self.line.share_percent
        serial = f", meter {line.meter_serial}" if line.meter_serial else ""
        part = f" ({share} % to {self.statement.contract})" if share != 100 else ""
        content = self.entry(
            "UsagePoint",
            f"{self.point_id}{serial}{part}",
            [
                ("self", self.usage_point, "UsagePoint"),
                ("up", self.usage_point.rsplit("/", 1)[0], "UsagePoint"),
                ("related", f"{self.usage_point}/MeterReading", "MeterReading"),
                ("related", self.time_rules, "LocalTimeParameters"),
            ],
        )
        category = _add(_add(content, _e("UsagePoint")), _e("ServiceCategory"))
        _add(category, _e("kind"), resource_codes(line.resource).service_kind)

    def add_local_time(self, year: int) -> None:
        rules = local_time_rules(self.zone, year)
        links = [
            ("self", self.time_rules, "LocalTimeParameters"),
            ("up", self.time_rules.rsplit("/", 1)[0], "LocalTimeParameters"),
        ]
        params = _add(self.entry("LocalTimeParameters", self.zone.key, links), _e("LocalTimeParameters"))
        _add(params, _e("dstEndRule"), f"{rules.dst_end_rule:08X}")
        _add(params, _e("dstOffset"), rules.dst_offset)
        _add(params, _e("dstStartRule"), f"{rules.dst_start_rule:08X}")
        _add(params, _e("tzOffset"), rules.tz_offset)

    def add_meter_reading(self) -> None:
        content = self.entry(
            "MeterReading",
            f"15-minute {self.line.resource} consumption, {self.statement.period}",
            [
                ("self", self.reading, "MeterReading"),
                ("up", f"{self.usage_point}/MeterReading", "MeterReading"),
                ("related", f"{self.reading}/IntervalBlock", "IntervalBlock"),
                ("related", self.reading_type, "ReadingType"),
            ],
        )
        _add(content, _e("MeterReading"))

    def add_reading_type(self, with_cost: bool) -> None:
        codes, unit = resource_codes(self.line.resource), unit_code(self.line.unit)
        links = [("self", self.reading_type, "ReadingType"), ("up", self.reading_type.rsplit("/", 1)[0], "ReadingType")]
        kind = _add(self.entry("ReadingType", f"{self.line.unit} per 15 minutes", links), _e("ReadingType"))
        # in the schema's sequence order
        _add(kind, _e("accumulationBehaviour"), ACCUMULATION_DELTA)
        _add(kind, _e("commodity"), codes.commodity)
        if with_cost:
            _add(kind, _e("currency"), currency_code(self.statement.currency))
        _add(kind, _e("dataQualifier"), DATA_QUALIFIER_NORMAL)
        _add(kind, _e("defaultQuality"), QUALITY_VALID)
        _add(kind, _e("flowDirection"), FLOW_FORWARD)
        _add(kind, _e("intervalLength"), INTERVAL_SECONDS)
        _add(kind, _e("kind"), codes.measurement_kind)
        _add(kind, _e("powerOfTenMultiplier"), unit.exponent - value_places(self.line.share_percent))
        _add(kind, _e("timeAttribute"), TIME_ATTRIBUTE_NONE)
        _add(kind, _e("uom"), unit.uom)
        _add(kind, _e("measuringPeriod"), MEASURING_PERIOD_15_MIN)

    def add_day(self, day: date, readings: Iterable[tuple[Interval, Decimal | None]]) -> None:
        """The IntervalBlock of one local day: 96 readings, 92 or 100 on the days clocks change."""
        start, end = local_midnight(day, self.zone), local_midnight(day + timedelta(days=1), self.zone)
        href = f"{self.reading}/IntervalBlock/{day:%Y%m%d}"
        links = [("self", href, "IntervalBlock"), ("up", f"{self.reading}/IntervalBlock", "IntervalBlock")]
        block = _add(
            self.entry(f"IntervalBlock|{day.isoformat()}", f"{day} ({self.zone.key})", links), _e("IntervalBlock")
        )
        span = _add(block, _e("interval"))
        _add(span, _e("duration"), int((end - start).total_seconds()))
        _add(span, _e("start"), _epoch(start))
        share = self.line.share_percent
        places = value_places(share)
        for interval, price in readings:
            part = quantity(interval.value) * share / 100
            element = _add(block, _e("IntervalReading"))
            if price is not None:
                _add(element, _e("cost"), _scaled(part * price, COST_PLACES))
            if interval.quality is not Quality.MEASURED:
                _add(_add(element, _e("ReadingQuality")), _e("quality"), interval.quality.espi_code)
            period = _add(element, _e("timePeriod"))
            _add(period, _e("duration"), INTERVAL_SECONDS)
            _add(period, _e("start"), _epoch(interval.start))
            _add(element, _e("value"), _scaled(part, places))

    def to_bytes(self) -> bytes:
        ET.indent(self.root, space="  ")
        body: bytes = ET.tostring(self.root, encoding="utf-8", xml_declaration=True)
        return body + b"\n"


def _in_order(
    point_id: str, intervals: Sequence[Interval], prices: Sequence[Decimal] | None
) -> list[tuple[Interval, Decimal | None]]:
    """(interval, unit price) by start; refuses intervals of another point and repeated starts."""
    if prices is not None and len(prices) != len(intervals):
        raise EspiError(f"{len(prices)} prices for {len(intervals)} intervals of {point_id}")
    unit_prices: list[Decimal | None] = list(prices) if prices is not None else [None] * len(intervals)
    ordered = sorted(zip(intervals, unit_prices, strict=True), key=lambda pair: pair[0].start)
    for interval, _ in ordered:
        if interval.point_id != point_id:
            raise EspiError(f"an interval of {interval.point_id} is among those of {point_id}")
    for (earlier, _), (later, _) in pairwise(ordered):
        if earlier.start == later.start:
            raise EspiError(f"two intervals of {point_id} start at {later.start.isoformat()}")
    return ordered


def espi_feed(
    statement: Statement,
    point_id: str,
    intervals: Sequence[Interval],
    *,
    zone: ZoneInfo,
    updated: datetime,
    prices: Sequence[Decimal] | None = None,
) -> bytes:
    """The feed of `point_id` in `statement`, from the point's intervals in the contract's span.

    `prices` gives the unit price (currency per billing unit) of each interval, in the same order,
    for IntervalReading.cost; without it readings carry no cost. `updated` stamps the Atom entries.
    """
    lines = point_lines(statement, point_id)
    if not lines:
        raise EspiError(f"statement {statement.id} has no energy line for point {point_id}")
    if updated.tzinfo is None:
        raise EspiError("the feed's updated time must be an aware datetime")
    ordered = _in_order(point_id, intervals, prices)
    unit_code(lines[0].unit)  # refuse an unknown unit before building anything
    feed = _Feed(statement, point_id, lines[0], zone, updated)
    feed.add_usage_point()
    feed.add_local_time(ordered[0][0].start.astimezone(zone).year if ordered else int(statement.period[:4]))
    feed.add_meter_reading()
    feed.add_reading_type(with_cost=prices is not None)
    for day, readings in groupby(ordered, key=lambda pair: pair[0].start.astimezone(zone).date()):
        feed.add_day(day, readings)
    return feed.to_bytes()
