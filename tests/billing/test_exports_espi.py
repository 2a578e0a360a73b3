"""Green Button ESPI feeds per metering point: valid against the XSD, values and costs checkable by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from billing_export.exports.espi_codes import EspiError, local_time_rules
from billing_export.exports.espi_feed import espi_feed, point_lines, value_places
from billing_export.exports.espi_validation import espi_problems
from billing_export.exports.interval_prices import interval_prices
from billing_export.period import occupancy
from billing_export.prices_file import load_dynamic_prices
from billing_export.statement import LineKind, Statement, StatementLine
from metering.readings import Interval, Quality
from tests.billing.exports_support import FIXTURES, ClosedCase, closed_case

NS = {"a": "http://www.w3.org/2005/Atom", "e": "http://naesb.org/espi"}
UPDATED = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
CASES = sorted(p.name for p in FIXTURES.glob("billing_*") if (p / "input.json").exists())


async def _feeds(case: ClosedCase) -> dict[tuple[str, str], bytes]:
    """Every (contract, point) feed of the case, priced like the CLI prices them."""
    site = case.site.model
    result = {}
    for statement in case.result.statements:
        contract = next(c for c in site.contracts if c.id == statement.contract)
        span = occupancy(contract, case.period)
        assert span is not None
        for point_id in sorted({line.point_id for line in statement.lines if line.kind is LineKind.ENERGY} - {None}):
            assert point_id is not None
            intervals = await case.store.intervals(point_id, *span)
            prices = interval_prices(site, case.period, contract, point_id, intervals)
            result[(statement.contract, point_id)] = espi_feed(
                statement, point_id, intervals, zone=case.period.zone, updated=UPDATED, prices=prices
            )
    return result


def _texts(document: etree._Element, path: str) -> list[str]:
    return [element.text for element in document.iterfind(path, NS)]


def _ints(document: etree._Element, path: str) -> list[int]:
    return [int(text) for text in _texts(document, path)]


@pytest.mark.parametrize("name", [c for c in CASES if c != "billing_dynamic_prices"])
async def test_every_golden_feed_is_valid(name: str, tmp_path: Path) -> None:
    async with closed_case(name, tmp_path) as case:
        feeds = await _feeds(case)
        statements = {s.contract: s for s in case.result.statements}
    assert feeds, "every golden case bills at least one metering point"
    for (contract, point_id), data in feeds.items():
        assert espi_problems(data) == [], (contract, point_id)
        # the readings of a point billed at 100 % add up to its energy lines exactly, in Wh
        lines = point_lines(statements[contract], point_id)
        if lines[0].share_percent == 100:
            total = sum(_ints(etree.fromstring(data), ".//e:IntervalReading/e:value"))
            assert total == sum(line.quantity for line in lines) * 1000


async def test_dynamic_prices_feed_is_valid(tmp_path: Path) -> None:
    async with closed_case("billing_dynamic_prices", tmp_path) as case:
        dynamic = load_dynamic_prices(case.site.model, case.site.folder)
        (statement,) = case.result.statements
        contract = case.site.model.contracts[0]
        (point_id,) = {line.point_id for line in point_lines(statement, "a1-01.energy")}
        assert point_id is not None
        intervals = await case.store.intervals(point_id, case.period.start, case.period.end)
        prices = interval_prices(case.site.model, case.period, contract, point_id, intervals, dynamic)
    data = espi_feed(statement, point_id, intervals, zone=case.period.zone, updated=UPDATED, prices=prices)
    assert espi_problems(data) == []
    costs = sum(_ints(etree.fromstring(data), ".//e:IntervalReading/e:cost"))
    energy_net = sum(line.net for line in point_lines(statement, point_id))
    assert abs(Decimal(costs).scaleb(-5) - energy_net) <= Decimal("0.005") * len(point_lines(statement, point_id))


async def test_estimated_gap_month(tmp_path: Path) -> None:
    # golden billing_estimated_gap: 0.25 kWh every quarter hour of September 2025 at 0.20 EUR/kWh,
    # all of 10 September estimated (96 intervals)
    async with closed_case("billing_estimated_gap", tmp_path) as case:
        ((key, data),) = (await _feeds(case)).items()
    assert key == ("C1", "a1-01.energy")
    assert espi_problems(data) == []
    doc = etree.fromstring(data)
    assert _texts(doc, "a:entry/a:content/e:UsagePoint/e:ServiceCategory/e:kind") == ["0"]  # electricity
    reading_type = doc.find("a:entry/a:content/e:ReadingType", NS)
    assert reading_type is not None
    assert {child.tag.split("}")[1]: child.text for child in reading_type} == {
        "accumulationBehaviour": "4",  # deltaData
        "commodity": "1",
        "currency": "978",  # EUR
        "dataQualifier": "12",
        "defaultQuality": "0",
        "flowDirection": "1",
        "intervalLength": "900",
        "kind": "12",  # energy
        "powerOfTenMultiplier": "0",  # values in Wh
        "timeAttribute": "0",
        "uom": "72",  # Wh
        "measuringPeriod": "2",
    }
    params = doc.find("a:entry/a:content/e:LocalTimeParameters", NS)
    assert params is not None
    assert [child.text for child in params] == ["AE0E3000", "3600", "3E0E2000", "3600"]
    blocks = doc.findall(".//e:IntervalBlock", NS)
    assert len(blocks) == 30
    # 1 September 2025 00:00 CEST = 31 August 22:00 UTC = 1756677600
    assert _ints(blocks[0], "e:interval/e:start") == [1756677600]
    assert {int(b.findtext("e:interval/e:duration", namespaces=NS) or 0) for b in blocks} == {86400}
    values = _ints(doc, ".//e:IntervalReading/e:value")
    assert len(values) == 30 * 96 and set(values) == {250}  # 0.25 kWh = 250 Wh
    assert set(_ints(doc, ".//e:IntervalReading/e:cost")) == {5000}  # 0.25 x 0.20 = 0.05 EUR
    assert sum(_ints(doc, ".//e:IntervalReading/e:cost")) == 144_00000  # 144.00 EUR in 1e-5
    starts = _ints(doc, ".//e:IntervalReading/e:timePeriod/e:start")
    assert starts == list(range(1756677600, 1756677600 + 2880 * 900, 900))
    flagged = [r for r in doc.iterfind(".//e:IntervalReading", NS) if r.find("e:ReadingQuality", NS) is not None]
    assert len(flagged) == 96
    assert {r.findtext("e:ReadingQuality/e:quality", namespaces=NS) for r in flagged} == {"9"}  # interpolated
    # 10 September 00:00 CEST = 9 September 22:00 UTC
    assert int(flagged[0].findtext("e:timePeriod/e:start", namespaces=NS) or 0) == 1757455200


async def test_dst_autumn_day_has_25_hours(tmp_path: Path) -> None:
    # golden billing_dst_autumn: October 2025, clocks go back on Sunday 26 October 03:00 -> 02:00
    async with closed_case("billing_dst_autumn", tmp_path) as case:
        (data,) = (await _feeds(case)).values()
    assert espi_problems(data) == []
    doc = etree.fromstring(data)
    blocks = {
        entry.findtext("a:title", namespaces=NS): entry.find("a:content/e:IntervalBlock", NS)
        for entry in doc.iterfind("a:entry", NS)
        if entry.find("a:content/e:IntervalBlock", NS) is not None
    }
    day = blocks["2025-10-26 (Europe/Berlin)"]
    assert day is not None
    assert _ints(day, "e:interval/e:duration") == [90000]
    assert _ints(day, "e:interval/e:start") == [1761429600]  # 25 October 22:00 UTC
    assert len(day.findall("e:IntervalReading", NS)) == 100
    assert len(_ints(doc, ".//e:IntervalReading/e:value")) == 745 * 4
    # 2745 - 2000 kWh over the month
    assert sum(_ints(doc, ".//e:IntervalReading/e:value")) == 745_000


async def test_tariff_change_costs_follow_the_zone_and_version(tmp_path: Path) -> None:
    # golden billing_tariff_change: peak 0.30 then 0.40 from Monday 2025-02-17 12:00, offpeak 0.20 then 0.25
    async with closed_case("billing_tariff_change", tmp_path) as case:
        (data,) = (await _feeds(case)).values()
        (statement,) = case.result.statements
    doc = etree.fromstring(data)
    cost_at = {
        int(r.findtext("e:timePeriod/e:start", namespaces=NS) or 0): int(r.findtext("e:cost", namespaces=NS) or 0)
        for r in doc.iterfind(".//e:IntervalReading", NS)
    }
    value_at = {
        int(r.findtext("e:timePeriod/e:start", namespaces=NS) or 0): int(r.findtext("e:value", namespaces=NS) or 0)
        for r in doc.iterfind(".//e:IntervalReading", NS)
    }
    monday_11_45 = int(datetime(2025, 2, 17, 10, 45, tzinfo=UTC).timestamp())  # 11:45 CET: old peak
    monday_12_00 = int(datetime(2025, 2, 17, 11, 0, tzinfo=UTC).timestamp())  # 12:00 CET: new peak
    assert cost_at[monday_11_45] == value_at[monday_11_45] * 30  # Wh x 0.30 EUR/kWh in 1e-5 EUR
    assert cost_at[monday_12_00] == value_at[monday_12_00] * 40
    energy = [line for line in statement.lines if line.kind is LineKind.ENERGY]
    assert Decimal(sum(cost_at.values())).scaleb(-5) == sum(line.net for line in energy) == Decimal("178.00")


def _statement(share: Decimal, unit: str = "kWh", resource: str = "electricity") -> Statement:
    line = StatementLine(
        kind=LineKind.ENERGY,
        description="Server room (50 %), Flat rate",
        resource=resource,
        quantity=Decimal("0.292"),
        unit=unit,
        unit_price=Decimal("0.2"),
        net=Decimal("0.06"),
        vat_percent=Decimal(0),
        vat=Decimal("0.00"),
        point_id="srv.energy",
        zone="flat",
        share_percent=share,
    )
    return Statement("s", "C9", "T9", "ACC-9", "2026-03", "EUR", (line,))


def _interval(minute: int, value: float, quality: Quality = Quality.MEASURED) -> Interval:
    return Interval("srv.energy", datetime(2026, 3, 2, 9, minute, tzinfo=UTC), value, quality)


def test_shared_point_values_are_the_contracts_part() -> None:
    # 50 % of 0.25 kWh = 125 Wh, of 0.333 kWh = 166.5 Wh: exact in mWh (multiplier -3); manual -> quality 7
    intervals = [_interval(0, 0.25), _interval(15, 0.333, Quality.MANUAL)]
    data = espi_feed(
        _statement(Decimal(50)),
        "srv.energy",
        intervals,
        zone=ZoneInfo("Europe/Berlin"),
        updated=UPDATED,
        prices=[Decimal("0.2"), Decimal("0.2")],
    )
    assert espi_problems(data) == []
    doc = etree.fromstring(data)
    assert _texts(doc, ".//e:ReadingType/e:powerOfTenMultiplier") == ["-3"]
    assert _ints(doc, ".//e:IntervalReading/e:value") == [125_000, 166_500]
    assert _ints(doc, ".//e:IntervalReading/e:cost") == [2500, 3330]  # 0.125 x 0.2, 0.1665 x 0.2 EUR
    assert _texts(doc, ".//e:IntervalReading/e:ReadingQuality/e:quality") == ["7"]
    assert doc.findtext("a:entry/a:title", namespaces=NS) == "srv.energy (50 % to C9)"


def test_a_small_share_of_a_water_point_keeps_its_litres() -> None:
    # 3.81 % of 0.012 m3 = 0.0004572 m3 = 0.4572 L: in whole litres it would be 0, in 1e-9 m3 it is exact
    data = espi_feed(
        _statement(Decimal("3.81"), unit="m3", resource="cold_water"),
        "srv.energy",
        [_interval(0, 0.012)],
        zone=ZoneInfo("Europe/Berlin"),
        updated=UPDATED,
    )
    assert espi_problems(data) == []
    doc = etree.fromstring(data)
    assert _texts(doc, ".//e:ReadingType/e:powerOfTenMultiplier") == ["-9"]
    assert _ints(doc, ".//e:IntervalReading/e:value") == [457_200]


def test_value_places() -> None:
    assert [value_places(Decimal(s)) for s in ("100", "100.0", "50", "50.0", "33.3", "3.81", "33.33333")] == [
        3,
        3,
        6,
        6,
        6,
        9,
        9,
    ]


def test_water_in_litres_and_no_cost_without_prices() -> None:
    data = espi_feed(
        _statement(Decimal(100), unit="m3", resource="cold_water"),
        "srv.energy",
        [_interval(0, 0.012)],
        zone=ZoneInfo("Europe/Berlin"),
        updated=UPDATED,
    )
    assert espi_problems(data) == []
    doc = etree.fromstring(data)
    assert _texts(doc, ".//e:UsagePoint/e:ServiceCategory/e:kind") == ["2"]  # water
    assert _texts(doc, ".//e:ReadingType/e:uom") == ["42"]  # m3
    assert _texts(doc, ".//e:ReadingType/e:powerOfTenMultiplier") == ["-3"]  # values in litres
    assert _texts(doc, ".//e:ReadingType/e:kind") == ["58"]  # volume
    assert _ints(doc, ".//e:IntervalReading/e:value") == [12]
    assert doc.find(".//e:IntervalReading/e:cost", NS) is None
    assert doc.find(".//e:ReadingType/e:currency", NS) is None


def test_refused_inputs() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    with pytest.raises(EspiError, match=r"two intervals of srv\.energy start at"):
        espi_feed(
            _statement(Decimal(100)), "srv.energy", [_interval(0, 1), _interval(0, 2)], zone=berlin, updated=UPDATED
        )
    with pytest.raises(EspiError, match=r"no energy line for point main\.energy"):
        espi_feed(_statement(Decimal(100)), "main.energy", [], zone=berlin, updated=UPDATED)
    with pytest.raises(EspiError, match="unit 'GJ' has no Green Button unit"):
        espi_feed(_statement(Decimal(100), unit="GJ"), "srv.energy", [], zone=berlin, updated=UPDATED)


def test_local_time_rules_by_hand() -> None:
    # New York: second Sunday of March 02:00 and first Sunday of November 02:00
    ny = local_time_rules(ZoneInfo("America/New_York"), 2025)
    assert (ny.tz_offset, ny.dst_offset, ny.dst_start_rule, ny.dst_end_rule) == (-18000, 3600, 0x360E2000, 0xB40E2000)
    # Berlin: last Sunday of March 02:00 (operator 7), last Sunday of October 03:00 summer time
    berlin = local_time_rules(ZoneInfo("Europe/Berlin"), 2025)
    assert (berlin.dst_start_rule, berlin.dst_end_rule) == (0x3E0E2000, 0xAE0E3000)
    tokyo = local_time_rules(ZoneInfo("Asia/Tokyo"), 2025)
    assert (tokyo.tz_offset, tokyo.dst_offset, tokyo.dst_start_rule) == (32400, 0, 0xFFFFFFFF)


def test_schema_problems_are_reported_with_lines() -> None:
    data = espi_feed(
        _statement(Decimal(100)), "srv.energy", [_interval(0, 0.25)], zone=ZoneInfo("UTC"), updated=UPDATED
    )
    broken = data.replace(b"<espi:value>250</espi:value>", b"<espi:value>0.25</espi:value>")
    (problem,) = espi_problems(broken)
    assert problem.startswith("line ") and "'0.25' is not a valid value of the atomic type" in problem
    assert espi_problems(b"<feed") and espi_problems(b"<feed")[0].startswith("line 1:")
