"""One bacpypes3 local object per exposed point, and how a `PointValue` lands on it.

What each object kind shows in a typical BMS (ANSI/ASHRAE 135 clause 12):

- analog-input (12.2, REAL): the usual "sensor" point; instantaneous power, flow, temperature. Trended,
  graphed, alarmed. COV fires when Present_Value moves by COV_Increment (13.1, Table 13-1).
- analog-value (12.4, REAL): a "soft" point computed by software, e.g. tenant consumption this period.
- accumulator (12.1, Unsigned Present_Value × Scale): a pulse/energy register. Many BMS front ends
  show the raw count and apply Scale only when configured; they handle the wrap at Max_Pres_Value as a
  rollover. Exact, but Unsigned32 clients wrap at 4,294,967,295 counts (4,294,967.295 kWh at 3 decimals).
- large-analog-value (clause 12 Large Analog Value, Double): a high-resolution total, exact to 2^53.
  Older BMS front ends (protocol revision < 6 clients) may not know object type 46 and skip it.
- binary-value (12.8, BinaryPV active/inactive): flags such as "leak detected".

Float32 precision: a REAL holds integers exactly only up to 2^24 = 16,777,216, so a running total of
1,234,567.8 kWh exposed as analog-input is shown in steps of 0.125 kWh, and above 16.7 GWh in steps of
1 kWh or more. Use accumulator or large-analog-value for cumulative totals; analog-input/-value only for
instantaneous values and small results.

Our points are read-only on the wire unless YAML says `writable: true` for one: the value comes from
the meter, a BMS write would only be overwritten by the next reading, so WriteProperty is refused
(write-access-denied).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from bacpypes3.basetypes import EngineeringUnits, EventState, Reliability, Scale
from bacpypes3.errors import PropertyError
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.local.cov import COVIncrementCriteria, GenericCriteria
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import AccumulatorObject as _AccumulatorObject
from bacpypes3.object import LargeAnalogValueObject as _LargeAnalogValueObject

from bms_bridge.exposure.points import ExposedPoint, PointStatus, PointValue
from point_mapping.units import unit_info

log = logging.getLogger(__name__)

UNSIGNED32_MAX = 2**32 - 1

# Status -> (Reliability, Out_Of_Service). Any Reliability but no-fault-detected sets the FAULT bit of
# Status_Flags, Out_Of_Service sets the OUT_OF_SERVICE bit (clause 12, Status_Flags of each object).
# - comm-failure: the meter does not answer -> communication-failure, the exact standard meaning.
# - stale: we had a value but it is older than allowed; no standard value says "too old", so
#   unreliable-other ("unreliable for a reason not listed"), keeping it distinct from comm-failure.
# - no-value: nothing read since start; no-sensor ("no input is connected") is the closest, and keeps
#   it distinct from stale so an operator can tell start-up from a dying feed.
STATUS_MAP: dict[PointStatus, tuple[Reliability, bool]] = {
    PointStatus.OK: (Reliability.noFaultDetected, False),
    PointStatus.STALE: (Reliability.unreliableOther, False),
    PointStatus.COMM_FAILURE: (Reliability.communicationFailure, False),
    PointStatus.OUT_OF_SERVICE: (Reliability.noFaultDetected, True),
    PointStatus.NO_VALUE: (Reliability.noSensor, False),
}


# Clause 12, Property_List: "the Object_Name, Object_Type, Object_Identifier, and Property_List properties
# are not included in the list" (bacpypes3 lists them; a BMS building its read plan from it reads four
# properties twice)
_NOT_IN_PROPERTY_LIST = frozenset({"objectIdentifier", "objectName", "objectType", "propertyList"})


class HonestPropertyList:
    """Property_List without the four properties every object has (clause 12, Property_List)."""

    @property
    def propertyList(self) -> Any:
        listed = super().propertyList  # type: ignore[misc]
        kept = [p for p in listed if p.attr not in _NOT_IN_PROPERTY_LIST]
        return type(listed)(kept)

    @propertyList.setter
    def propertyList(self, value: Any) -> None:
        pass  # computed


class _ReadOnly(HonestPropertyList):
    """Refuse every write but Present_Value of a point YAML made writable (a last line of defence:
    GatewayApplication already refuses before decoding the value)."""

    _writable_properties: frozenset[str] = frozenset()

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        name = attr if isinstance(attr, str) else getattr(attr, "attr", str(attr))
        if name not in self._writable_properties:
            raise PropertyError("writeAccessDenied")
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]


class MeterAnalogInput(_ReadOnly, AnalogInputObject):  # type: ignore[misc]
    pass


class MeterAnalogValue(_ReadOnly, AnalogValueObject):  # type: ignore[misc]
    pass


class MeterBinaryValue(_ReadOnly, BinaryValueObject):  # type: ignore[misc]
    pass


class MeterAccumulator(_ReadOnly, LocalObject, _AccumulatorObject):  # type: ignore[misc]
    """bacpypes3 has no local Accumulator with COV: subscriptions fail without criteria.

    Accumulator has no COV_Increment, so the generic criteria apply: any change of Present_Value or
    Status_Flags is reported (13.1, Table 13-1 criteria for objects without COV_Increment).
    """

    _cov_criteria = GenericCriteria


class MeterLargeAnalogValue(_ReadOnly, LocalObject, _LargeAnalogValueObject):  # type: ignore[misc]
    """Large Analog Value with COV_Increment criteria (Table 13-1)."""

    _cov_criteria = COVIncrementCriteria
    _required = ("covIncrement",)


@dataclass
class PointObject:
    """An exposed point and the bacpypes3 object that serves it."""

    point: ExposedPoint
    obj: Any  # a bacpypes3 local object; untyped library
    accumulator_decimals: int = 3

    def apply(self, value: PointValue) -> None:
        """Set Present_Value, Reliability and Out_Of_Service; assignment triggers COV by itself."""
        obj = self.obj
        reliability, out_of_service = STATUS_MAP[value.status]
        out_of_service = out_of_service or self.point.out_of_service
        old_flags = obj.statusFlags
        if value.value is not None and value.status in (PointStatus.OK, PointStatus.STALE, PointStatus.OUT_OF_SERVICE):
            # stale and out-of-service values are still the last known reading: show it, flagged
            reliability = self._set_present_value(value.value, reliability)
        if obj.reliability != reliability:
            obj.reliability = reliability
        if bool(obj.outOfService) != out_of_service:
            obj.outOfService = out_of_service
        new_flags = obj.statusFlags
        if new_flags != old_flags:
            # Status_Flags is computed from Reliability/Out_Of_Service, so its assignment monitors never
            # fire; tell the COV detection directly (13.1: a Status_Flags change is always reported).
            for monitor in obj._property_monitors["statusFlags"]:
                monitor(old_flags, new_flags)

    def _set_present_value(self, raw: float, reliability: Reliability) -> Reliability:
        kind = self.point.bacnet_object
        obj = self.obj
        if kind == "binary-value":
            obj.presentValue = "active" if raw else "inactive"
        elif kind == "accumulator":
            if not math.isfinite(raw):
                return Reliability.unreliableOther
            if raw < 0:
                # an Unsigned register cannot show a negative total: keep the last value, flag it
                return Reliability.underRange
            # 12.1 Accumulator, Max_Pres_Value: the register wraps to 0 after the maximum, like a meter dial
            obj.presentValue = round(raw * 10**self.accumulator_decimals) % (UNSIGNED32_MAX + 1)
        else:
            obj.presentValue = float(raw)
        return reliability


def _units(point: ExposedPoint) -> EngineeringUnits:
    # GJ (47925) is in the ASHRAE extended range and absent from bacpypes3's enum: cast by number
    return EngineeringUnits(unit_info(point.unit).bacnet)


def build_object(point: ExposedPoint, *, accumulator_decimals: int = 3) -> PointObject:
    """A local object for `point`, initially showing "no value yet" (Reliability no-sensor)."""
    reliability, _ = STATUS_MAP[PointStatus.NO_VALUE]
    common: dict[str, Any] = {
        "objectIdentifier": (point.bacnet_object, point.bacnet_instance),
        "objectName": point.name,
        "description": point.description,
        "eventState": EventState.normal,
        "reliability": reliability,
        "outOfService": point.out_of_service,
    }
    kind = point.bacnet_object
    obj: Any
    if kind == "binary-value":
        obj = MeterBinaryValue(presentValue="inactive", **common)
    elif kind == "accumulator":
        obj = MeterAccumulator(
            presentValue=0,
            units=_units(point),
            scale=Scale(integerScale=-accumulator_decimals),
            maxPresValue=UNSIGNED32_MAX,
            **common,
        )
    else:
        cls: type = {
            "analog-input": MeterAnalogInput,
            "analog-value": MeterAnalogValue,
            "large-analog-value": MeterLargeAnalogValue,
        }[kind]
        obj = cls(presentValue=0.0, units=_units(point), covIncrement=point.cov_increment, **common)
        if point.eu_range is not None:
            obj.minPresValue, obj.maxPresValue = (float(v) for v in point.eu_range)
    # only Present_Value, and only when YAML says `writable: true` (GatewayApplication checks this)
    obj._writable_properties = frozenset({"presentValue"}) if point.writable else frozenset()
    return PointObject(point=point, obj=obj, accumulator_decimals=accumulator_decimals)
