"""The JSON body of a statement: every field present, Decimals as strings, canonical bytes stable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from billing_export.exports.statement_json import SCHEMA, statement_bytes, statement_json
from tests.billing.exports_support import closed_case


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


async def test_rounding_statement_as_json(tmp_path: Path) -> None:
    # golden billing_rounding: 1 kWh and 3 kWh at 0.125, each line rounded half-up once
    async with closed_case("billing_rounding", tmp_path) as case:
        (statement,) = case.result.statements
    doc = statement_json(statement, version=2)
    assert doc["schema"] == SCHEMA
    assert doc["statement_id"] == "golden:2026-01:C1"
    assert doc["version"] == 2
    assert (doc["site"], doc["period"], doc["contract"], doc["tenant"]) == ("golden", "2026-01", "C1", "T1")
    assert (doc["billing_account"], doc["currency"]) == ("ACC-1", "EUR")
    first, second = doc["lines"]
    assert first == {
        "line": 1,
        "kind": "energy",
        "description": "Office 1, Flat rate",
        "resource": "electricity",
        "point_id": "a1-01.energy",
        "meter_serial": "SDM-0101",
        "zone": "flat",
        "opening": None,  # the case has intervals only, no register readings
        "closing": None,
        "quantity": "1.000",
        "unit": "kWh",
        "unit_price": "0.125",
        "share_percent": "100.0",  # as close_period writes it: from the YAML float 100.0
        "estimated_percent": "0.0",
        "net": "0.13",  # 0.125 half-up
        "vat_percent": "19",
        "vat": "0.02",  # 19 % of 0.13 = 0.0247
        "gross": "0.15",
        "basis": "",
        "refers_to": None,
    }
    assert (second["quantity"], second["net"], second["vat"]) == ("3.000", "0.38", "0.07")
    assert doc["vat_breakdown"] == [{"vat_percent": "19", "net": "0.51", "vat": "0.09"}]
    assert doc["totals"] == {"net": "0.51", "vat": "0.09", "gross": "0.60"}
    # no number that a receiver could read as a float: money and quantities are strings
    assert all(isinstance(leaf, str | None) or type(leaf) is int for leaf in _leaves(doc))


async def test_canonical_bytes_are_stable_and_parse_back(tmp_path: Path) -> None:
    async with closed_case("billing_tariff_change", tmp_path) as case:
        (statement,) = case.result.statements
    body = statement_bytes(statement)
    assert body == statement_bytes(statement)
    assert json.loads(body) == statement_json(statement)
    assert body.startswith(b'{"billing_account":"ACC-1","contract":"C1","currency":"EUR","lines":[')
    assert b" " not in body.replace(b"Flat rate", b"").split(b'"description"')[0]  # no padding before the lines
    assert statement_bytes(statement, version=2) != body


async def test_vat_breakdown_and_totals_of_a_multi_line_statement(tmp_path: Path) -> None:
    # golden billing_demand: energy 144.45 + demand 85.00, both at 19 %
    async with closed_case("billing_demand", tmp_path) as case:
        (statement,) = case.result.statements
    doc = statement_json(statement)
    assert [line["kind"] for line in doc["lines"]] == ["energy", "demand"]
    demand = doc["lines"][1]
    assert (demand["quantity"], demand["unit"], demand["unit_price"]) == ("10.000", "kW", "8.5")
    assert demand["basis"] == "peak 15-min interval from 2025-11-12T14:30:00+01:00"
    assert doc["vat_breakdown"] == [{"vat_percent": "19", "net": "229.45", "vat": "43.60"}]
    assert doc["totals"] == {"net": "229.45", "vat": "43.60", "gross": "273.05"}
