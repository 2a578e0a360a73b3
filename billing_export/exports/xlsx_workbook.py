"""Statement lines as an XLSX workbook for accountants (openpyxl): a "Lines" and a "Totals" sheet.

Amounts and quantities are numeric cells, so a spreadsheet can sum and filter them; each gets a
number format with exactly the places its Decimal was written with (0.13 -> "#,##0.00", 744.000 ->
"#,##0.000"), so what is shown is what the statement says. The cell holds the Decimal's text in the
file (openpyxl writes str(Decimal)); a spreadsheet reads it as a binary double, which is why the
Totals sheet carries the statement's own totals rather than formulas over the line cells.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from billing_export.exports.columns import LINE_COLUMNS, Cell, Versions, line_rows
from billing_export.statement import Statement

LINES_SHEET = "Lines"
TOTALS_SHEET = "Totals"
TOTALS_COLUMNS = (
    "statement_id",
    "version",
    "site",
    "period",
    "contract",
    "tenant",
    "billing_account",
    "currency",
    "lines",
    "net",
    "vat",
    "gross",
)
_WIDE = {"statement_id": 28, "description": 40, "basis": 48}


def number_format(value: Decimal) -> str:
    """A format showing the Decimal's own places, with thousands separators: 0.125 -> "#,##0.000"."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0" + ("." + "0" * places if places else "")


def _put(sheet: Any, row: int, column: int, value: Cell) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, Decimal):
        cell.number_format = number_format(value)
    elif isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a text, never a formula (a description could start with "=")


def _sheet(sheet: Any, columns: Sequence[str], rows: Sequence[dict[str, Cell]]) -> None:
    bold = Font(bold=True)
    for column, name in enumerate(columns, start=1):
        sheet.cell(row=1, column=column, value=name).font = bold
        sheet.column_dimensions[get_column_letter(column)].width = _WIDE.get(name, max(10, len(name) + 2))
    for number, row in enumerate(rows, start=2):
        for column, name in enumerate(columns, start=1):
            _put(sheet, number, column, row[name])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"


def totals_rows(statements: Sequence[Statement], versions: Versions | None = None) -> list[dict[str, Cell]]:
    return [
        {
            "statement_id": s.id,
            "version": (versions or {}).get(s.id, 1),
            "site": s.site,
            "period": s.period,
            "contract": s.contract,
            "tenant": s.tenant,
            "billing_account": s.billing_account,
            "currency": s.currency,
            "lines": len(s.lines),
            "net": s.net,
            "vat": s.vat,
            "gross": s.gross,
        }
        for s in statements
    ]


def lines_xlsx(statements: Sequence[Statement], versions: Versions | None = None) -> bytes:
    workbook = Workbook()
    lines = workbook.active
    lines.title = LINES_SHEET
    _sheet(lines, LINE_COLUMNS, list(line_rows(statements, versions)))
    _sheet(workbook.create_sheet(TOTALS_SHEET), TOTALS_COLUMNS, totals_rows(statements, versions))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
