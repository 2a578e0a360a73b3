"""CSV of statement lines: parses back to the same fields, and its amounts sum to the totals exactly."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from billing_export.exports.columns import LINE_COLUMNS
from billing_export.exports.csv_lines import lines_csv
from tests.billing.exports_support import closed_case


def _rows(data: bytes, delimiter: str = ";") -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark for spreadsheets
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


async def test_rows_sum_to_each_statement_total(tmp_path: Path) -> None:
    # golden billing_pool_area: two statements, 975.47 and 214.93, with common-area allocation lines
    async with closed_case("billing_pool_area", tmp_path) as case:
        statements = case.result.statements
    rows = _rows(lines_csv(statements))
    assert list(rows[0]) == list(LINE_COLUMNS)
    assert len(rows) == 5
    for statement in statements:
        mine = [r for r in rows if r["statement_id"] == statement.id]
        assert [int(r["line"]) for r in mine] == list(range(1, len(statement.lines) + 1))
        for column, total in (("net", statement.net), ("vat", statement.vat), ("gross", statement.gross)):
            assert sum((Decimal(r[column]) for r in mine), Decimal(0)) == total
    assert {r["contract"]: r["net"] for r in rows if r["kind"] == "allocation"} == {"C1": "231.47", "C2": "66.13"}
    assert sum(Decimal(r["net"]) for r in rows) == Decimal("975.47") + Decimal("214.93")


async def test_fields_as_written_and_delimiter_quoted(tmp_path: Path) -> None:
    # golden billing_meter_exchange: the basis names the exchange; we add a ";" to the description
    async with closed_case("billing_meter_exchange", tmp_path) as case:
        (statement,) = case.result.statements
    line = statement.lines[0]
    tricky = type(line)(**{**line.__dict__, "description": 'Office 1; "north" wing\nsecond line'})
    statement = type(statement)(**{**statement.__dict__, "lines": (tricky,)})
    data = lines_csv([statement])
    (row,) = _rows(data)
    assert row["description"] == 'Office 1; "north" wing\nsecond line'
    assert row["quantity"] == "744.000"
    assert (row["opening"], row["closing"], row["meter_serial"]) == ("1154.000", "398.000", "SDM-0101")
    assert row["basis"] == "meter exchanged 2025-08-15 10:00: old final 1500.000, new initial 0.000"
    assert (row["unit_price"], row["net"], row["vat"], row["gross"]) == ("0.2", "148.80", "0.00", "148.80")
    assert (row["zone"], row["refers_to"]) == ("flat", "")
    assert '"Office 1; ""north"" wing' in data.decode("utf-8-sig")


async def test_comma_delimiter_on_request(tmp_path: Path) -> None:
    async with closed_case("billing_rounding", tmp_path) as case:
        statements = case.result.statements
    rows = _rows(lines_csv(statements, delimiter=","), delimiter=",")
    assert [(r["point_id"], r["net"]) for r in rows] == [("a1-01.energy", "0.13"), ("a1-02.energy", "0.38")]
    assert sum(Decimal(r["net"]) for r in rows) == Decimal("0.51")
