"""Stored records that are not readings: events for the analytics rules, meter replacements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from metering.events import Acknowledgement, EvidenceSample


def _require_aware(owner: str, name: str, moment: datetime | None) -> None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError(f"{owner}: {name} is naive {moment!r}")


@dataclass(frozen=True, slots=True)
class Event:
    """Something a rule found (leak, HVAC conflict, stuck meter, gap) with its evidence and cost.

    `dedup_key` names the finding so a rule re-run over the same data adds nothing new.
    """

    kind: str  # e.g. "night_flow", "simultaneous_heat_cool"
    subject: str  # point, meter, zone or device the event is about
    severity: str  # "info" | "warning" | "alarm"
    started_at: datetime
    title: str
    dedup_key: str
    ended_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable evidence
    energy: float | None = None  # energy wasted, in `energy_unit`
    energy_unit: str | None = None  # e.g. "kWh", "m3"
    cost: float | None = None  # money wasted, in `currency`
    currency: str | None = None  # ISO 4217
    id: int | None = None  # set by the store
    # HVAC and anomaly findings; all optional so a plain event stays as simple as before
    equipment: str | None = None  # the AHU, FCU, circuit or meter involved
    zone: str | None = None  # the zone group it serves
    tenants: tuple[str, ...] = ()  # tenants whose leased spaces it affects
    evidence: tuple[EvidenceSample, ...] = ()  # the values that triggered it, as a short series
    cost_exact: Decimal | None = None  # money wasted, exact; `cost` carries the same as a float
    acknowledgement: Acknowledgement | None = None

    def __post_init__(self) -> None:
        if self.cost_exact is not None:
            if self.currency is None:
                raise ValueError(f"event {self.dedup_key}: cost and currency go together")
            if self.cost is None:
                object.__setattr__(self, "cost", float(self.cost_exact))
        _require_aware(f"event {self.dedup_key}", "started_at", self.started_at)
        _require_aware(f"event {self.dedup_key}", "ended_at", self.ended_at)
        if (self.energy is None) != (self.energy_unit is None):
            raise ValueError(f"event {self.dedup_key}: energy and energy_unit go together")
        if (self.cost is None) != (self.currency is None):
            raise ValueError(f"event {self.dedup_key}: cost and currency go together")


@dataclass(frozen=True, slots=True)
class MeterReplacement:
    """A meter swapped at `ts`: the old register's last value and the new one's first value."""

    meter_id: str
    ts: datetime
    old_final: float
    new_initial: float
    note: str = ""

    def __post_init__(self) -> None:
        _require_aware(f"replacement of {self.meter_id}", "ts", self.ts)
