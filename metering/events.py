"""Findings of the analytics rules (HVAC conflicts, anomalies) as plain values, and their life cycle.

Pure: no I/O, no clock. A rule reports what it sees now as `Condition`s keyed by a stable name; `reconcile`
compares them with the open findings in the store and says which to open, which to update (evidence,
wasted energy and cost so far) and which to close because their condition has cleared. Acknowledging a
finding (who, when, why) does not close it: the condition closes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


def _aware(owner: str, moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"{owner}: naive datetime {moment!r}")


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An operator has seen a finding: who, when and what they said (the finding stays open)."""

    by: str
    at: datetime
    comment: str = ""

    def __post_init__(self) -> None:
        _aware("acknowledgement", self.at)
        if not self.by.strip():
            raise ValueError("an acknowledgement needs the name of who acknowledged")


@dataclass(frozen=True, slots=True)
class EvidenceSample:
    """The values that made a rule fire at one instant: point id -> value (units as stored)."""

    ts: datetime
    values: Mapping[str, float]

    def __post_init__(self) -> None:
        _aware("evidence", self.ts)

    def as_json(self) -> dict[str, Any]:
        return {"ts": self.ts.isoformat(), "values": dict(sorted(self.values.items()))}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> EvidenceSample:
        return EvidenceSample(datetime.fromisoformat(data["ts"]), {k: float(v) for k, v in data["values"].items()})


@dataclass(frozen=True, slots=True)
class ResourceWaste:
    """The part of a finding's waste on one resource (heat, cooling, electricity, water), priced at its tariff."""

    resource: str  # "heat", "cooling", "electricity", "cold_water", ...
    energy: float
    unit: str  # "kWh", "MJ", "m3"
    cost: Decimal | None = None  # None: no tariff prices this resource (or not every hour of it)
    currency: str | None = None

    def __post_init__(self) -> None:
        if (self.cost is None) != (self.currency is None):
            raise ValueError(f"waste of {self.resource}: cost and currency go together")

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "energy": self.energy,
            "unit": self.unit,
            "cost": str(self.cost) if self.cost is not None else None,
            "currency": self.currency,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ResourceWaste:
        cost = data.get("cost")
        return ResourceWaste(
            str(data["resource"]),
            float(data["energy"]),
            str(data["unit"]),
            Decimal(str(cost)) if cost is not None else None,
            data.get("currency"),
        )


@dataclass(frozen=True, slots=True)
class Waste:
    """Energy used above the baseline of comparable non-conflict hours, and what it cost.

    `by_resource` lists each resource apart, each at its own tariff. Energy of different resources is
    never added: `energy`/`unit` are set only when the waste is of one resource (or one unit) and are
    None otherwise. `cost` is the sum of the priced parts (money adds up across resources); a part no
    tariff prices has no cost and adds nothing, so the total errs low and the part says so.
    """

    energy: float | None
    unit: str | None  # "kWh", "MJ", "m3"
    cost: Decimal | None = None
    currency: str | None = None
    by_resource: tuple[ResourceWaste, ...] = ()

    def __post_init__(self) -> None:
        if (self.cost is None) != (self.currency is None):
            raise ValueError("waste: cost and currency go together")
        if (self.energy is None) != (self.unit is None):
            raise ValueError("waste: energy and unit go together")

    @staticmethod
    def of(parts: Iterable[ResourceWaste], currency: str) -> Waste:
        """The finding's waste from its parts: one energy figure only if all parts share resource and unit."""
        ordered = tuple(sorted(parts, key=lambda p: (p.resource, p.unit)))
        kinds = {(p.resource, p.unit) for p in ordered}
        energy = round(sum(p.energy for p in ordered), 3) if len(kinds) == 1 else None
        unit = ordered[0].unit if len(kinds) == 1 else None
        costs = [p.cost for p in ordered if p.cost is not None]
        cost = sum(costs, Decimal(0)) if costs else None
        return Waste(energy, unit, cost, currency if cost is not None else None, ordered)


@dataclass(frozen=True, slots=True)
class Condition:
    """What a rule sees as true now; `key` names the finding across runs (rule + equipment + start)."""

    key: str
    kind: str
    subject: str
    title: str
    started_at: datetime
    ended_at: datetime | None = None  # set when the rule already knows the condition cleared
    severity: str = "warning"
    equipment: str | None = None
    zone: str | None = None
    tenants: tuple[str, ...] = ()
    evidence: tuple[EvidenceSample, ...] = ()
    waste: Waste | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _aware(f"condition {self.key}", self.started_at)
        if self.ended_at is not None:
            _aware(f"condition {self.key}", self.ended_at)
            if self.ended_at < self.started_at:
                raise ValueError(f"condition {self.key}: ends before it starts")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    open: tuple[Condition, ...]  # new findings to store
    update: tuple[Condition, ...]  # open findings whose evidence or waste grew
    close: tuple[tuple[str, datetime], ...]  # (key, when it cleared)


def reconcile(open_keys: Iterable[str], conditions: Iterable[Condition], now: datetime) -> Reconciliation:
    """Open what is new, update what is still active, close what is open but no longer reported.

    A condition that carries its own `ended_at` is closed at that instant; one that vanished from the
    rule's output is closed at `now` (the rule looked and no longer sees it).
    """
    _aware("reconcile", now)
    known = set(open_keys)
    seen: set[str] = set()
    new: list[Condition] = []
    update: list[Condition] = []
    close: list[tuple[str, datetime]] = []
    for condition in conditions:
        seen.add(condition.key)
        if condition.key in known:
            update.append(condition)
            if condition.ended_at is not None:
                close.append((condition.key, condition.ended_at))
        else:
            new.append(condition)
    close.extend((key, now) for key in sorted(known - seen))
    return Reconciliation(tuple(new), tuple(update), tuple(close))


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
