"""Findings shown to the BMS: one Binary Value per rule and equipment (or rule and point), and what it wasted.

For every HVAC finding (`hvac.*`, subject: an equipment or a zone) and anomaly (`anomaly.*`, subject: a
metering point, tenant or building) the service has ever stored, the BMS sees

- a **binary-value** `finding.<kind>.<subject>`: active while a finding of that rule on that subject is
  open, inactive otherwise (the object stays, so the BMS's alarms and graphics stay bound to it);
- a companion **analog-value** per resource, `finding.<kind>.<subject>.<resource>`: the energy (kWh, MJ) or
  water (litres) the open finding has wasted so far, 0 when none is open. An HVAC finding has one per
  resource it wastes (heat, cooling, electricity: never added together); a leak shows its lost litres.

The same ids are the OPC UA node ids (under the folder site / Findings / kind). BACnet instances come
from `identifiers.lock.yaml` (section `finding_instances`): a new object gets a number above every
number a point or finding ever had, and keeps it. Objects are added at run time as findings appear.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from bms_bridge.exposure.points import ExposedPoint, PointValue
from metering.store import Event, Store
from point_mapping.identifiers import IdentifierLock, Identifiers, assign_finding_instances, write_lock
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

PREFIXES = ("hvac.", "anomaly.")
ID_PREFIX = "finding"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")

AddPoints = Callable[[list[ExposedPoint]], Awaitable[None]]
Update = Callable[[list[PointValue]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Part:
    """One resource of a finding's waste as the BMS shows it."""

    resource: str
    unit: str
    amount: float


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


def flag_id(kind: str, subject: str) -> str:
    return f"{ID_PREFIX}.{kind}.{_safe(subject)}"


def waste_id(kind: str, subject: str, resource: str) -> str:
    return f"{flag_id(kind, subject)}.{_safe(resource)}"


def parts_of(event: Event) -> list[Part]:
    """The waste of a finding per resource; water in litres (a leak's "lost litres")."""
    listed = event.details.get("waste") or []
    if listed:
        return [Part(str(p["resource"]), str(p["unit"]), float(p["energy"])) for p in listed]
    if event.energy is None or event.energy_unit is None:
        return []
    if event.energy_unit == "m3":
        return [Part("water", "L", round(event.energy * 1000.0, 3))]
    if event.energy_unit == "L":
        return [Part("water", "L", event.energy)]
    return [Part("energy", event.energy_unit, event.energy)]


def is_finding(event: Event) -> bool:
    return event.kind.startswith(PREFIXES)


class FindingsExposure:
    """Keeps the finding objects of the BACnet and OPC UA servers in step with the stored findings."""

    def __init__(self, site: LoadedSite, clock: Callable[[], datetime]) -> None:
        self.site, self.clock = site, clock
        self._lock: IdentifierLock = site.identifiers.lock
        self._targets: list[tuple[AddPoints, Update]] = []
        self._points: dict[str, ExposedPoint] = {}
        self._published: dict[str, float] = {}

    def add_target(self, add_points: AddPoints, update: Update) -> None:
        self._targets.append((add_points, update))

    @property
    def has_targets(self) -> bool:
        return bool(self._targets)

    @property
    def points(self) -> list[ExposedPoint]:
        return list(self._points.values())

    @property
    def lock(self) -> IdentifierLock:
        return self._lock

    async def refresh_from(self, store: Store) -> list[PointValue]:
        return await self.refresh([e for e in await store.events() if is_finding(e)])

    async def refresh(self, events: Sequence[Event]) -> list[PointValue]:
        """Objects for every (rule, subject) and resource seen, then the values of each; returns what changed."""
        findings = [e for e in events if is_finding(e)]
        wanted = self._wanted(findings)
        new = [(pid, spec) for pid, spec in wanted.items() if pid not in self._points]
        if new:
            await self._add([pid for pid, _ in new], dict(new))
        now = self.clock()
        values: dict[str, float] = dict.fromkeys(self._points, 0.0)
        for event in findings:
            if event.ended_at is not None:
                continue
            values[flag_id(event.kind, event.subject)] = 1.0
            for part in parts_of(event):
                key = waste_id(event.kind, event.subject, part.resource)
                values[key] = round(values.get(key, 0.0) + part.amount, 3)
        changed = [
            PointValue(pid, value, now) for pid, value in sorted(values.items()) if self._published.get(pid) != value
        ]
        if not changed:
            return []
        for _add, update in self._targets:
            try:
                await update(changed)
            except Exception:  # one server failing must not starve the other
                log.exception("finding values not delivered to one server")
        self._published.update({v.point_id: v.value for v in changed if v.value is not None})
        return changed

    def _wanted(self, findings: Iterable[Event]) -> dict[str, ExposedPoint]:
        """Descriptors (instance 0: assigned later) of every object these findings call for."""
        model = self.site.model
        wanted: dict[str, ExposedPoint] = {}
        for event in findings:
            subject_label = event.equipment if event.kind.startswith("hvac.") and event.equipment else event.subject
            path = (model.site.name, "Findings", event.kind)
            fid = flag_id(event.kind, event.subject)
            wanted.setdefault(
                fid,
                ExposedPoint(
                    point_id=fid,
                    name=f"Findings.{event.kind}.{event.subject}"[:200],
                    description=f"active while a {event.kind} finding on {subject_label} is open"[:250],
                    unit="",
                    cumulative=False,
                    bacnet_object="binary-value",
                    bacnet_instance=0,
                    opcua_node_id=fid,
                    path=path,
                ),
            )
            for part in parts_of(event):
                wid = waste_id(event.kind, event.subject, part.resource)
                wanted.setdefault(
                    wid,
                    ExposedPoint(
                        point_id=wid,
                        name=f"Findings.{event.kind}.{event.subject}.{part.resource}"[:200],
                        description=f"{part.resource} wasted so far by the open {event.kind} finding on "
                        f"{subject_label} ({part.unit})"[:250],
                        unit=part.unit,
                        cumulative=False,
                        bacnet_object="analog-value",
                        bacnet_instance=0,
                        opcua_node_id=wid,
                        path=path,
                    ),
                )
        return wanted

    async def _add(self, ids: list[str], specs: dict[str, ExposedPoint]) -> None:
        lock = assign_finding_instances(self._lock, ids)
        if lock != self._lock:
            self._lock = lock
            _save(self.site.folder, self.site.identifiers, lock)
        points = [replace(specs[pid], bacnet_instance=lock.findings[pid]) for pid in ids]
        for point in points:
            self._points[point.point_id] = point
        for add, _update in self._targets:
            try:
                await add(points)
            except Exception:
                log.exception("finding objects not added to one server")


def _save(folder: Path, identifiers: Identifiers, lock: IdentifierLock) -> None:
    """Write the lock with the new finding numbers; the points' numbers are as loaded."""
    try:
        write_lock(folder, replace(identifiers, lock=lock, lock_changed=True))
    except OSError as error:  # a read-only site folder: numbers hold for this run only
        log.warning("could not write %s/identifiers.lock.yaml: %s", folder, error)
