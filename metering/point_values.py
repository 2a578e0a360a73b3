"""From a device's decoded registers to readings of the site's metering points.

Pure: the caller reads and decodes the registers (`metering.decoding`) and says when. For each point of
each meter on the device: value = decoded register x multiplier (CT ratio, or pulse weight for a pulse
counter channel `counter_N`), converted from the register's unit to the point's unit.

Out-of-service meters are skipped, not marked: their registers are not wanted (`registers_wanted`)
and they yield no reading, so their points go stale and the exposure layers flag them as such. A
"bad quality" reading would carry a value nobody should bill on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from metering.readings import Quality, Reading
from point_mapping.model import MeterProfile, Point, SiteModel
from point_mapping.registers import PointMeasure, point_measure
from point_mapping.units import UNITS, convert

SOURCE_PREFIX = "modbus:"


@dataclass(frozen=True, slots=True)
class PointValues:
    """Readings of one poll, and the points that got none (and why)."""

    readings: tuple[Reading, ...]
    unavailable: tuple[str, ...]  # point ids whose register said "not available" (NaN, sentinel)
    missing: tuple[str, ...]  # point ids whose register was not read this time (failed read)


def device_points(site: SiteModel, device_id: str) -> list[Point]:
    """Physical points of the in-service meters on a device, in site order."""
    meters = {m.id for m in site.meters_of_device(device_id) if not m.out_of_service}
    return [p for p in site.points if p.meter in meters and p.register_name is not None]


def registers_wanted(site: SiteModel, device_id: str) -> list[str]:
    """Register names the device must be asked for: those its in-service points use, each once."""
    return list(dict.fromkeys(p.register_name for p in device_points(site, device_id) if p.register_name))


@dataclass(frozen=True, slots=True)
class PointSource:
    """Where a point's value comes from: a register of its device, and what to do with it."""

    point_id: str
    register: str
    measure: PointMeasure | None  # None only for a dangling reference (never on a loaded site)
    # (multiplier, source unit's factor to base, point unit's factor to base), looked up once; None
    # when the units do not convert, and `convert` then says why on every use, as it always did.
    _factors: tuple[float, float, float] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        measure = self.measure
        if measure is None:
            return
        src, dst = UNITS.get(measure.source_unit), UNITS.get(measure.unit)
        if src is not None and dst is not None and src.quantity == dst.quantity:
            object.__setattr__(self, "_factors", (measure.multiplier, src.to_base, dst.to_base))


def point_sources(site: SiteModel, device_id: str, profiles: Mapping[str, MeterProfile]) -> tuple[PointSource, ...]:
    """The device's in-service points with their measures; a poller computes this once, not every cycle."""
    return tuple(
        PointSource(p.id, p.register_name or "", point_measure(site, p, profiles))
        for p in device_points(site, device_id)
    )


def values_from(
    sources: Sequence[PointSource], device_id: str, decoded: Mapping[str, float | None], ts: datetime
) -> PointValues:
    """Readings at `ts` for every source whose register was decoded."""
    readings: list[Reading] = []
    unavailable: list[str] = []
    missing: list[str] = []
    origin = f"{SOURCE_PREFIX}{device_id}"
    for source in sources:
        if source.register not in decoded or source.measure is None:
            missing.append(source.point_id)
            continue
        raw = decoded[source.register]
        if raw is None:
            unavailable.append(source.point_id)
            continue
        factors = source._factors
        if factors is None:
            measure = source.measure
            value = convert(raw * measure.multiplier, measure.source_unit, measure.unit)
        else:
            multiplier, from_base, to_base = factors
            value = raw * multiplier * from_base / to_base  # as `convert` computes it, to the last bit
        readings.append(Reading(source.point_id, ts, value, Quality.MEASURED, origin))
    return PointValues(tuple(readings), tuple(unavailable), tuple(missing))


def point_values(
    site: SiteModel,
    device_id: str,
    decoded: Mapping[str, float | None],
    ts: datetime,
    profiles: Mapping[str, MeterProfile],
) -> PointValues:
    """Readings at `ts` for every in-service point of the device whose register was decoded."""
    return values_from(point_sources(site, device_id, profiles), device_id, decoded, ts)


def point_readings(
    site: SiteModel,
    device_id: str,
    decoded: Mapping[str, float | None],
    ts: datetime,
    profiles: Mapping[str, MeterProfile],
) -> list[Reading]:
    """Just the readings of `point_values` (use that to learn which points got none)."""
    return list(point_values(site, device_id, decoded, ts, profiles).readings)
