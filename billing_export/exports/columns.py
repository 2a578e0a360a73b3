"""The line columns every tabular export shares (CSV and XLSX), and Decimal as plain text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

from billing_export.statement import Statement, StatementLine

Cell = str | int | Decimal | None

# One row per statement line; the statement's own fields repeat on each of its rows so a filtered
# or sorted sheet still says whose line it is.
LINE_COLUMNS: tuple[str, ...] = (
    "statement_id",
    "version",
    "site",
    "period",
    "contract",
    "tenant",
    "billing_account",
    "currency",
    "line",
    "kind",
    "resource",
    "point_id",
    "meter_serial",
    "zone",
    "description",
    "opening",
    "closing",
    "quantity",
    "unit",
    "unit_price",
    "share_percent",
    "estimated_percent",
    "net",
    "vat_percent",
    "vat",
    "gross",
    "basis",
    "refers_to",
)
DECIMAL_COLUMNS = frozenset(
    {
        "opening",
        "closing",
        "quantity",
        "unit_price",
        "share_percent",
        "estimated_percent",
        "net",
        "vat_percent",
        "vat",
        "gross",
    }
)
MONEY_COLUMNS = frozenset({"net", "vat", "gross"})


def plain(value: Decimal) -> str:
    """The Decimal as written, never in exponent notation: 0.130 stays "0.130", 1E+2 becomes "100"."""
    return format(value, "f")


Versions = Mapping[str, int]  # statement id -> its stored version; a statement not in it is version 1


def line_cells(statement: Statement, number: int, line: StatementLine, version: int = 1) -> dict[str, Cell]:
    return {
        "statement_id": statement.id,
        "version": version,
        "site": statement.site,
        "period": statement.period,
        "contract": statement.contract,
        "tenant": statement.tenant,
        "billing_account": statement.billing_account,
        "currency": statement.currency,
        "line": number,
        "kind": line.kind.value,
        "resource": line.resource,
        "point_id": line.point_id,
        "meter_serial": line.meter_serial,
        "zone": line.zone,
        "description": line.description,
        "opening": line.opening,
        "closing": line.closing,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "share_percent": line.share_percent,
        "estimated_percent": line.estimated_percent,
        "net": line.net,
        "vat_percent": line.vat_percent,
        "vat": line.vat,
        "gross": line.gross,
        "basis": line.basis,
        "refers_to": line.refers_to,
    }


def line_rows(statements: Iterable[Statement], versions: Versions | None = None) -> Iterator[dict[str, Cell]]:
    """Every line of every statement, numbered from 1 within its statement, in statement order."""
    for statement in statements:
        version = (versions or {}).get(statement.id, 1)
        for number, line in enumerate(statement.lines, start=1):
            yield line_cells(statement, number, line, version)
