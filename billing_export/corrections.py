"""Late or corrected data after a close: the difference becomes correction lines on a later statement.

An issued statement is never rewritten. The closed period is recomputed from today's intervals and
compared line by line (same kind, point, zone, resource) with what was issued; each difference in
quantity or amount becomes a CORRECTION line that names the original statement.
"""

from __future__ import annotations

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
