"""Exact sums of interval values: each value in quanta of 10^-9 of its unit, added as integers.

Billing adds up thousands of 15-minute values per metering point; as integers the sum is exact whatever
the order of addition, and the same in Python and in either database (docs/billing.md, "Rounding").
"""

from __future__ import annotations

from dataclasses import dataclass

QUANTUM_PLACES = 9  # a quantum is 10^-9 of the unit


def to_quanta(value: float) -> int:
    """`value` × 10^9 rounded half away from zero, in binary floating point exactly as SQLite's
    ROUND does it (and the same rule on PostgreSQL): every value written with up to 9 decimals comes
    out exact, and the binary noise of a difference of two registers (0.25000000000004547) goes."""
    scaled = value * 1e9
    return int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)


@dataclass(frozen=True, slots=True)
class SpanSum:
    """A point's intervals starting in one span: Σ value and Σ value of those not measured, in quanta."""

    total: int
    not_measured: int
