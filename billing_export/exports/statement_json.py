"""A statement as the JSON document the billing system receives (schema in docs/exports.md).

`statement_json` gives the document as a dict; `statement_bytes` its canonical serialisation (UTF-8,
keys sorted, no insignificant whitespace), so the same statement version always gives the same bytes:
that is what the delivery outbox signs and what the receiver may hash. Every Decimal is a string as
written ("0.130" keeps its places), never a JSON number, so no receiver parses money into a float.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from billing_export.exports.columns import plain
from billing_export.money import ZERO
from billing_export.statement import Statement, StatementLine

SCHEMA = "bms-bridge/statement/v1"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def line_json(number: int, line: StatementLine) -> dict[str, Any]:
    return {
        "line": number,
        "kind": line.kind.value,
        "description": line.description,
        "resource": line.resource,
        "point_id": line.point_id,
        "meter_serial": line.meter_serial,
        "zone": line.zone,
        "opening": _text(line.opening),
        "closing": _text(line.closing),
        "quantity": plain(line.quantity),
        "unit": line.unit,
        "unit_price": plain(line.unit_price),
        "share_percent": plain(line.share_percent),
        "estimated_percent": plain(line.estimated_percent),
        "net": plain(line.net),
        "vat_percent": plain(line.vat_percent),
        "vat": plain(line.vat),
        "gross": plain(line.gross),
        "basis": line.basis,
        "refers_to": line.refers_to,
    }


def vat_breakdown(statement: Statement) -> list[dict[str, str]]:
    """Net and VAT per VAT rate (what an invoice prints), rates ascending; sums of rounded lines."""
    net: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    vat: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in statement.lines:
        net[line.vat_percent] += line.net
        vat[line.vat_percent] += line.vat
    return [{"vat_percent": plain(rate), "net": plain(net[rate]), "vat": plain(vat[rate])} for rate in sorted(net)]


def statement_json(statement: Statement, version: int = 1) -> dict[str, Any]:
    """The statement's document; `version` counts re-issues of the same statement id (from 1)."""
    if version < 1:
        raise ValueError(f"statement version must be 1 or more, not {version}")
    return {
        "schema": SCHEMA,
        "statement_id": statement.id,
        "version": version,
        "site": statement.site,
        "period": statement.period,
        "contract": statement.contract,
        "tenant": statement.tenant,
        "billing_account": statement.billing_account,
        "currency": statement.currency,
        "lines": [line_json(number, line) for number, line in enumerate(statement.lines, start=1)],
        "vat_breakdown": vat_breakdown(statement),
        "totals": {"net": plain(statement.net), "vat": plain(statement.vat), "gross": plain(statement.gross)},
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def statement_bytes(statement: Statement, version: int = 1) -> bytes:
    return canonical_bytes(statement_json(statement, version))
