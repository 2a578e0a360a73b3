"""The review workflow: which state a statement may move to, and what adjusting a line does.

draft -> reviewed -> approved -> exported; an approved or exported statement is never changed, it is
superseded by a new version (an adjustment after approval makes version N+1 as a draft). Adjusting a
reviewed statement sends it back to draft: the review did not see the new number.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from billing_export.money import minor_unit_digits, round_money, vat_of
from billing_export.statement import StatementLine, StatementState

S = StatementState

# target state -> the state a statement must be in to get there by a person's action
_FROM = {S.REVIEWED: S.DRAFT, S.APPROVED: S.REVIEWED, S.EXPORTED: S.APPROVED}
_VERB = {S.REVIEWED: "review", S.APPROVED: "approve", S.EXPORTED: "export"}
ISSUED = frozenset({S.APPROVED, S.EXPORTED})  # changed only through a new version
EDITABLE = frozenset({S.DRAFT, S.REVIEWED})


class ReviewError(ValueError):
    """A step the workflow does not allow; the message says what to do instead."""


def check_transition(statement_id: str, current: StatementState, target: StatementState) -> None:
    if target not in _FROM:
        raise ReviewError(f"a statement cannot be moved to {target.value} by hand")
    if current == target:
        raise ReviewError(f"statement {statement_id} is already {current.value}")
    if current == S.SUPERSEDED:
        raise ReviewError(f"statement {statement_id} is superseded; {_VERB[target]} its newest version instead")
    required = _FROM[target]
    if current != required:
        if list(S).index(current) > list(S).index(target):
            raise ReviewError(f"statement {statement_id} is already {current.value}, past {target.value}")
        raise ReviewError(
            f"statement {statement_id} is {current.value}; it must be {required.value} before you "
            f"{_VERB[target]} it (next step: {_VERB[_next_target(current)]})"
        )


def _next_target(current: StatementState) -> StatementState:
    return next(target for target, required in _FROM.items() if required == current)


def check_adjustable(statement_id: str, current: StatementState) -> None:
    if current == S.SUPERSEDED:
        raise ReviewError(f"statement {statement_id} is superseded; adjust its newest version instead")


def adjusted_line(
    line: StatementLine, currency: str, *, amount: Decimal | None = None, quantity: Decimal | None = None
) -> StatementLine:
    """`line` with a new net amount, or a new quantity priced at the line's unit price; VAT follows."""
    if (amount is None) == (quantity is None):
        raise ReviewError("give either a new amount or a new quantity")
    if amount is not None:
        digits = minor_unit_digits(currency)
        if amount != round_money(amount, currency):
            raise ReviewError(f"amount {amount} has more than {digits} decimals, the minor unit of {currency}")
        net, new_quantity = amount, line.quantity
    else:
        assert quantity is not None
        new_quantity, net = quantity, round_money(quantity * line.unit_price, currency)
    return replace(line, quantity=new_quantity, net=net, vat=vat_of(net, line.vat_percent, currency))
