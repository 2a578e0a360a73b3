"""Meter exchanges: one model for the site YAML, the `replace-meter` command, the store and the counters.

An exchange says: at `ts` the old meter's register read `old_final` and the new meter's `new_initial`
(raw register values as read off the dials). Consumption across it is
(old final − last old reading) + (first new reading − new initial) (docs/vee.md, "Meter exchanges").

Technicians write the time down by hand, and the same exchange is often recorded twice (in the YAML
and again with the CLI). `merge_exchanges` folds records with the same values within
`SAME_EXCHANGE_WINDOW` of each other into one; the counter logic then matches the exchange to the
step where the register actually changed meters, within `EXCHANGE_TIME_TOLERANCE` of the written time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

# Two records of the same values this close together are one exchange recorded twice.
SAME_EXCHANGE_WINDOW = timedelta(hours=1)
# How far the written time may be from the step where the register changed meters.
EXCHANGE_TIME_TOLERANCE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class MeterExchange:
    """A meter exchange at `ts`. `source` says where it was recorded ("yaml", "cli")."""

    meter_id: str
    ts: datetime
    old_final: float
    new_initial: float
    note: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"exchange of {self.meter_id or 'a meter'} has a naive timestamp {self.ts!r}")
        for name, value in (("old final", self.old_final), ("new initial", self.new_initial)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"exchange of {self.meter_id}: {name} must be a number ≥ 0, got {value!r}")

    def same_as(self, other: MeterExchange) -> bool:
        """True when `other` records this exchange again (same values, written close in time)."""
        return (
            self.meter_id == other.meter_id
            and math.isclose(self.old_final, other.old_final, rel_tol=1e-9, abs_tol=1e-9)
            and math.isclose(self.new_initial, other.new_initial, rel_tol=1e-9, abs_tol=1e-9)
            and abs(self.ts - other.ts) <= SAME_EXCHANGE_WINDOW
        )

    def scaled(self, factor: float) -> MeterExchange:
        """The exchange with its register values in stored units (raw × CT ratio/pulse weight × unit)."""
        if factor == 1.0:
            return self
        return replace(self, old_final=self.old_final * factor, new_initial=self.new_initial * factor)


def merge_exchanges(*sources: Iterable[MeterExchange]) -> list[MeterExchange]:
    """All exchanges of the given sources in time order, each recorded exchange once.

    Earlier sources win: pass the YAML's first, so its time and note are kept when the CLI recorded
    the same exchange again.
    """
    kept: list[MeterExchange] = []
    for source in sources:
        for exchange in source:
            if not any(exchange.same_as(k) for k in kept):
                kept.append(exchange)
    return sorted(kept, key=lambda e: e.ts)


def format_register(value: float) -> str:
    """A register value as a person wrote it: 99999678, not 9.99997e+07; 1234.5, not 1234.500000."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)
