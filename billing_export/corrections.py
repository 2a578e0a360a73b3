"""Late or corrected data after a close: the difference becomes correction lines on a later statement.

An issued statement is never rewritten. The closed period is recomputed from today's intervals and
compared line by line (same kind, point, zone, resource) with what was issued; each difference in
quantity or amount becomes a CORRECTION line that names the original statement.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from billing_export.money import ZERO
from billing_export.statement import LineKind, Statement, StatementLine

LineKey = tuple[str, str | None, str | None, str, str]


def _key(line: StatementLine) -> LineKey:
    return (line.kind.value, line.point_id, line.zone, line.resource, line.description)


def correction_lines(issued: Statement, recomputed: Statement) -> list[StatementLine]:
    """Lines that bring `issued` to `recomputed`; empty when nothing changed."""
    before = {_key(line): line for line in issued.lines if line.kind != LineKind.CORRECTION}
    after = {_key(line): line for line in recomputed.lines if line.kind != LineKind.CORRECTION}
    result = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        template = new or old
        assert template is not None
        quantity = (new.quantity if new else ZERO) - (old.quantity if old else ZERO)
        net = (new.net if new else ZERO) - (old.net if old else ZERO)
        vat = (new.vat if new else ZERO) - (old.vat if old else ZERO)
        if not (quantity or net or vat):
            continue
        result.append(
            StatementLine(
                kind=LineKind.CORRECTION,
                description=f"Correction of {issued.period}: {template.description}",
                resource=template.resource,
                quantity=quantity,
                unit=template.unit,
                unit_price=template.unit_price,
                net=net,
                vat_percent=template.vat_percent,
                vat=vat,
                point_id=template.point_id,
                meter_serial=template.meter_serial,
                zone=template.zone,
                share_percent=template.share_percent,
                estimated_percent=new.estimated_percent if new else ZERO,
                basis=f"late data after close; was {old.quantity if old else ZERO} {template.unit}, "
                f"now {new.quantity if new else ZERO} {template.unit}",
                refers_to=issued.id,
            )
        )
    return result


def _billed_key(line: StatementLine) -> tuple[str | None, str | None, str, str]:
    return (line.point_id, line.zone, line.resource, line.description)


def outstanding(delta: list[StatementLine], billed: list[StatementLine]) -> list[StatementLine]:
    """What of `delta` (correction lines from the issued to today's numbers) no statement carries yet.

    `billed` are the correction lines for the same original already on later statements; a second wave
    of late data for a month is billed as the difference to what the first wave already corrected.
    """
    carried: dict[tuple[str | None, str | None, str, str], tuple[Decimal, Decimal, Decimal]] = {}
    for line in billed:
        q, n, v = carried.get(_billed_key(line), (ZERO, ZERO, ZERO))
        carried[_billed_key(line)] = (q + line.quantity, n + line.net, v + line.vat)
    result = []
    for line in delta:
        q, n, v = carried.pop(_billed_key(line), (ZERO, ZERO, ZERO))
        rest = replace(line, quantity=line.quantity - q, net=line.net - n, vat=line.vat - v)
        if q or n or v:
            rest = replace(rest, basis=f"{line.basis}; {q} {line.unit}, {n} already corrected before")
        if rest.quantity or rest.net or rest.vat:
            result.append(rest)
    for (point_id, zone, resource, description), (q, n, v) in carried.items():
        # corrected before, back to the issued number now: take the earlier correction back
        template = next(line for line in billed if _billed_key(line) == (point_id, zone, resource, description))
        if q or n or v:
            result.append(replace(template, quantity=-q, net=-n, vat=-v, basis="earlier correction taken back"))
    return result
