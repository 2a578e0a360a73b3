"""XLSX of statement lines, opened with openpyxl and checked cell by cell against golden statements."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from billing_export.exports.columns import LINE_COLUMNS
from billing_export.exports.xlsx_workbook import TOTALS_COLUMNS, lines_xlsx, number_format
from tests.billing.exports_support import closed_case


def _by_name(sheet: Any) -> list[dict[str, Any]]:
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, (cell for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]


async def test_tariff_change_lines_and_totals(tmp_path: Path) -> None:
    # golden billing_tariff_change: a price change on 2025-02-17 12:00 splits peak and offpeak lines, and the
    # standing charge 28.00 -> 56.00 a month is prorated 16.5 and 11.5 of 28 days
    async with closed_case("billing_tariff_change", tmp_path) as case:
        (statement,) = case.result.statements
    book = load_workbook(io.BytesIO(lines_xlsx([statement])))
    assert book.sheetnames == ["Lines", "Totals"]
    lines, totals = book["Lines"], book["Totals"]
    assert [cell.value for cell in lines[1]] == list(LINE_COLUMNS)
    rows = _by_name(lines)
    assert len(rows) == 6
    # line 1: 124 kWh peak at 0.30 = 37.20, 19 % VAT 7.07 (7.068 half-up)
    first = rows[0]
    assert (first["statement_id"].value, first["line"].value, first["zone"].value) == ("golden:2025-02:C1", 1, "peak")
    assert first["quantity"].data_type == "n" and first["quantity"].value == 124
    assert first["quantity"].number_format == "#,##0.000"
    assert first["unit_price"].value == 0.3 and first["unit_price"].number_format == "#,##0.0"
    assert first["net"].value == 37.2 and first["net"].number_format == "#,##0.00"
    assert first["vat"].value == 7.07 and first["gross"].value == 44.27
    assert (first["opening"].value, first["closing"].value) == (5000, 5672)
    assert first["meter_serial"].value == "SDM-0101"
    assert first["refers_to"].value is None
    # line 3: after the change, peak at 0.40: 116 kWh = 46.40, VAT 8.82 (8.816)
    assert [rows[2][name].value for name in ("quantity", "unit_price", "net", "vat")] == [116, 0.4, 46.4, 8.82]
    # line 6: second standing charge, 56.00 x 11.5 / 28 = 23.00, VAT 4.37
    sixth = rows[5]
    assert (sixth["kind"].value, sixth["unit"].value, sixth["quantity"].value) == ("fee", "d", 11.5)
    assert sixth["quantity"].number_format == "#,##0.0000"
    assert (sixth["net"].value, sixth["vat"].value) == (23, 4.37)
    assert sixth["basis"].value == "11.5000 of 28 days"
    # totals sheet: the statement's own sums of rounded lines
    assert [cell.value for cell in totals[1]] == list(TOTALS_COLUMNS)
    (total,) = _by_name(totals)
    assert [total[name].value for name in ("contract", "tenant", "currency", "lines")] == ["C1", "T1", "EUR", 6]
    assert (total["net"].value, total["vat"].value, total["gross"].value) == (217.5, 41.34, 258.84)
    assert total["gross"].number_format == "#,##0.00"
    # each money cell, read back as text, is the statement's Decimal exactly
    for row, line in zip(rows, statement.lines, strict=True):
        assert Decimal(str(row["net"].value)).quantize(Decimal("0.01")) == line.net


async def test_two_statements_one_sheet(tmp_path: Path) -> None:
    # golden billing_pool_area: C1 975.47 (3 lines), C2 214.93 (2 lines)
    async with closed_case("billing_pool_area", tmp_path) as case:
        statements = case.result.statements
    book = load_workbook(io.BytesIO(lines_xlsx(statements)))
    rows = _by_name(book["Lines"])
    assert [(r["contract"].value, r["line"].value, r["kind"].value) for r in rows] == [
        ("C1", 1, "energy"),
        ("C1", 2, "energy"),
        ("C1", 3, "allocation"),
        ("C2", 1, "energy"),
        ("C2", 2, "allocation"),
    ]
    assert rows[2]["quantity"].value == 1157.333 and rows[2]["net"].value == 231.47
    assert rows[2]["basis"].value == "leased area 350.0 m² of the leased area in force"
    totals = [(t["contract"].value, t["net"].value, t["gross"].value) for t in _by_name(book["Totals"])]
    assert totals == [("C1", 975.47, 975.47), ("C2", 214.93, 214.93)]


async def test_text_starting_with_equals_stays_text(tmp_path: Path) -> None:
    async with closed_case("billing_rounding", tmp_path) as case:
        (statement,) = case.result.statements
    line = statement.lines[0]
    odd = type(line)(**{**line.__dict__, "description": "=SUM(A1:A9)"})
    statement = type(statement)(**{**statement.__dict__, "lines": (odd,)})
    rows = _by_name(load_workbook(io.BytesIO(lines_xlsx([statement])))["Lines"])
    assert rows[0]["description"].value == "=SUM(A1:A9)" and rows[0]["description"].data_type == "s"


def test_number_format_follows_the_places_written() -> None:
    assert number_format(Decimal("0.13")) == "#,##0.00"
    assert number_format(Decimal("744.000")) == "#,##0.000"
    assert number_format(Decimal("0.125")) == "#,##0.000"
    assert number_format(Decimal(100)) == "#,##0"
    assert number_format(Decimal("1E+2")) == "#,##0"
