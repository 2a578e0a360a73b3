"""A `bms_devices`/`bms_points` YAML skeleton from discovered devices, for the integrator to confirm.

Every object that can be read as a trend (analog, binary, multistate) or is a Schedule or Calendar
becomes a point with the role and equipment `metering.hvac.roles` guesses, marked `# confirm` where it
is a guess. An object whose role cannot be guessed is written commented out (a point needs a role),
with what it says about itself, so the integrator can give it one. Equipment found in names gets an
`hvac_equipment` entry with its kind. The text loads with `bms-bridge check` as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bms_bridge.bms_client.decode import trend_kind
from bms_bridge.bms_client.discovery import DiscoveredDevice, DiscoveredObject
from metering.hvac.roles import Confidence, RoleGuess, guess_role

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
# words YAML 1.1 (PyYAML) reads as booleans or null when unquoted
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none"})
_ID_CHARS = re.compile(r"[^a-z0-9._-]+")
# equipment id prefixes (metering.hvac.roles.EQUIPMENT_KINDS) -> hvac_equipment kinds
_HVAC_KINDS = {
    "ahu": "ahu",
    "fcu": "fcu",
    "perimeter": "perimeter-heating",
    "radiator": "perimeter-heating",
    "hk": "perimeter-heating",
    "chiller": "chiller",
}
MAX_ID = 80


def scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when that is safe, else double-quoted (JSON is valid YAML)."""
    if _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def slug(text: str) -> str:
    """An id from an object name: 'AHU-A Heating Valve' -> 'ahu-a-heating-valve'; '' when nothing is left."""
    cleaned = _ID_CHARS.sub("-", text.lower()).strip("-._")
    return re.sub(r"-{2,}", "-", cleaned)[:MAX_ID].rstrip("-._")


class _Ids:
    """Unique ids across the whole skeleton: a second 'oat' becomes 'oat-2'."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.used:
            n += 1
            suffix = f"-{n}"
            candidate = wanted[: MAX_ID - len(suffix)] + suffix
        self.used.add(candidate)
        return candidate


@dataclass(frozen=True, slots=True)
class SkeletonPoint:
    device_id: str
    obj: DiscoveredObject
    guess: RoleGuess
    point_id: str
    equipment: str

    def line(self) -> str:
        fields = [f"id: {scalar(self.point_id)}"]
        if self.obj.description and self.obj.description != self.obj.name:
            fields.append(f"name: {scalar(self.obj.description)}")
        fields += [f"device: {scalar(self.device_id)}", f"object: {scalar(self.obj.reference)}"]
        fields.append(f"role: {self.guess.role}" if self.guess.role else "role: ROLE")
        fields.append(f"equipment: {scalar(self.equipment)}")
        if self.obj.unit:
            fields.append(f"unit: {scalar(self.obj.unit)}")
        entry = "- {" + ", ".join(fields) + "}"
        return entry if self.guess.role else f"# {entry}"

    def comment(self) -> str:
        notes: list[str] = []
        if self.guess.role is None:
            notes.append(f"role unknown: {self.guess.reason}")
        elif self.guess.confidence is not Confidence.CERTAIN:
            notes.append(f"confirm ({self.guess.confidence}): {self.guess.reason}")
        if self.guess.equipment is None:
            notes.append("confirm equipment (none in the name)")
        if self.obj.units and not self.obj.unit:
            notes.append(f"units {self.obj.units} (not a unit of the site model)")
        if self.obj.value is not None:
            notes.append(f"now {_value(self.obj)}")
        if self.obj.error:
            notes.append(self.obj.error)
        return "; ".join(notes)


def _value(obj: DiscoveredObject) -> str:
    text = obj.value or ""
    if obj.value_type == "Real":
        text = f"{float(text):.6g}"
    return f"{text} {obj.unit or ''}".rstrip()


def is_point(obj: DiscoveredObject) -> bool:
    return trend_kind(obj.object_type) is not None or obj.object_type in ("schedule", "calendar")


def device_id(device: DiscoveredDevice) -> str:
    return f"bms-{device.instance}"


def plan(devices: Sequence[DiscoveredDevice]) -> tuple[list[SkeletonPoint], list[tuple[str, DiscoveredObject]]]:
    """The points of the skeleton, grouped by equipment, and the objects left out (not points)."""
    ids = _Ids()
    for device in devices:
        ids.used.add(device_id(device))
    points: list[SkeletonPoint] = []
    skipped: list[tuple[str, DiscoveredObject]] = []
    for device in devices:
        dev = device_id(device)
        for obj in device.objects:
            if not is_point(obj):
                skipped.append((dev, obj))
                continue
            guess = guess_role(obj.object_type, obj.name, obj.description, obj.unit or obj.units, obj.states)
            wanted = slug(obj.name) or f"{obj.object_type}-{obj.instance}"
            points.append(SkeletonPoint(dev, obj, guess, ids.take(wanted), guess.equipment or dev))
    order: dict[str, int] = {}
    for p in points:
        order.setdefault(p.equipment, len(order))
    return sorted(points, key=lambda p: order[p.equipment]), skipped


def _hvac_kind(equipment: str) -> str:
    return _HVAC_KINDS.get(equipment.split("-")[0], "other")


def render(devices: Sequence[DiscoveredDevice], made_by: str, made_at: str) -> str:
    """The YAML text: a header saying how to confirm it, then bms_devices, bms_points, hvac_equipment."""
    points, skipped = plan(devices)
    guessed = sum(1 for p in points if p.guess.role and p.guess.confidence is not Confidence.CERTAIN)
    unknown = sum(1 for p in points if p.guess.role is None)
    out = [
        f"# BMS points found by `{made_by}` on {made_at}.",
        f"# {len(devices)} device(s), {len(points)} points: {guessed} roles guessed from names and units",
        f"# (marked 'confirm'), {unknown} unknown (commented out: give them a role or delete them).",
        "# Check every 'confirm', then delete the mark; add each equipment's zone, spaces and meters.",
        "",
        "bms_devices:",
    ]
    for device in devices:
        out.append(f"  # {_device_note(device)}")
        fields = [f"id: {device_id(device)}"]
        if device.name:
            fields.append(f"name: {scalar(device.name)}")
        fields += [f"address: {scalar(device.address)}", f"device_instance: {device.instance}"]
        out.append("  - {" + ", ".join(fields) + "}")
    out += ["", "bms_points:" if points else "bms_points: []"]
    current: str | None = None
    for point in points:
        if point.equipment != current:
            current = point.equipment
            out.append(f"  # {current}")
        comment = point.comment()
        out.append(f"  {point.line()}" + (f"  # {comment}" if comment else ""))
    if skipped:
        out += ["", f"# not points ({len(skipped)} objects of other types):"]
        out += [f"#   {dev} {obj.reference} {obj.name!r}" for dev, obj in skipped]
    equipment = list(_equipment(points))
    if equipment:
        out += ["", "hvac_equipment:"]
        out += [
            f"  - {{id: {scalar(e)}, kind: {_hvac_kind(e)}}}  # confirm kind; add zone and meters" for e in equipment
        ]
    return "\n".join(out) + "\n"


def _equipment(points: Iterable[SkeletonPoint]) -> Iterable[str]:
    seen: set[str] = set()
    for p in points:
        name = p.guess.equipment
        if p.guess.role and name and name not in seen:
            seen.add(name)
            yield name


def _device_note(device: DiscoveredDevice) -> str:
    parts = [f"device {device.instance}"]
    if device.description:
        parts.append(repr(device.description))
    if device.vendor_id is not None:
        parts.append(f"vendor {device.vendor_id}")
    if device.max_apdu is not None:
        parts.append(f"max APDU {device.max_apdu}")
    if device.segmentation:
        parts.append(device.segmentation)
    parts.append(f"{len(device.objects)} objects")
    if device.object_list_by_element:
        parts.append("Object_List read element by element")
    return ", ".join(parts)
