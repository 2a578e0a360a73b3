"""Statement lines as CSV for accountants: one row per line, a header row, Decimals as written.

The delimiter is ";" by default, as spreadsheet programs expect it where "," is the decimal comma;
the csv module quotes any field holding the delimiter, a quote or a line break (a meter exchange's
basis reads "...; ..."), so every row parses back to the same fields. The bytes start with a UTF-8
byte order mark so that a spreadsheet opens tenant names with umlauts correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from billing_export.exports.columns import LINE_COLUMNS, Cell, Versions, line_rows, plain
from billing_export.statement import Statement

ENCODING = "utf-8-sig"


def _field(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain(value)
    return str(value)


def lines_csv(statements: Iterable[Statement], delimiter: str = ";", versions: Versions | None = None) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(LINE_COLUMNS)
    for row in line_rows(statements, versions):
        writer.writerow([_field(row[column]) for column in LINE_COLUMNS])
    return out.getvalue().encode(ENCODING)
