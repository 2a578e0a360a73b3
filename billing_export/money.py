"""Money and quantities as Decimal, rounded once per line (docs/billing.md, "Rounding").

Rule: every line's amount is rounded half-up to the currency's minor unit exactly once, from the
unrounded product of its quantity and price; VAT is computed per line from the rounded net amount and
rounded the same way; a statement's totals are sums of rounded line amounts and are never rounded again.
Consumption enters billing as exact sums of the stored 15-minute values in quanta of 10^-9 of the
unit (`metering.store.interval_sums.to_quanta`); a line's quantity is that sum rounded half-up once,
to QUANTITY_PLACES decimals (1 Wh, 1 L), and registers shown on a line are rounded the same way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

# ISO 4217 minor units of the currencies a site is likely to bill in; others default to 2.
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "CLP": 0,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
    "VND": 0,
}
QUANTITY_PLACES = 3
QUANTITY_STEP = Decimal(1).scaleb(-QUANTITY_PLACES)
PRICE_STEP = Decimal("0.00001")  # unit prices shown (averages of dynamic prices) to 5 places
ZERO = Decimal(0)


def minor_unit_digits(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def round_money(amount: Decimal, currency: str, digits: int | None = None) -> Decimal:
    """Half-up to the currency's minor unit: 0.125 EUR -> 0.13, -0.125 EUR -> -0.13."""
    places = minor_unit_digits(currency) if digits is None else digits
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def quantity(value: float | Decimal | int) -> Decimal:
    """A consumption value as an exact Decimal with QUANTITY_PLACES decimals."""
    if isinstance(value, float):
        return _float_quantity(value)
    exact = value if isinstance(value, Decimal) else Decimal(value)
    return exact.quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=1 << 16)
def _float_quantity(value: float) -> Decimal:
    # a month of a meter repeats few distinct 15-minute values: a close converts each once
    return Decimal(repr(value)).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)


def vat_of(net: Decimal, percent: Decimal, currency: str, digits: int | None = None) -> Decimal:
    return round_money(net * percent / 100, currency, digits)
