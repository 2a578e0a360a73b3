"""Objects and status mapping, in process (no network): fast checks of the value encoding."""

from __future__ import annotations

from bms_bridge.bacnet.objects import UNSIGNED32_MAX, build_object
from bms_bridge.exposure.points import PointStatus
from tests.bacnet.conftest import ENERGY, ENERGY_HR, LEAK, POWER, SPARE, reading


async def test_new_objects_show_no_value_as_fault_no_sensor() -> None:
    obj = build_object(POWER).obj
    assert list(obj.statusFlags) == [0, 1, 0, 0]
    assert str(obj.reliability) == "no-sensor"
    assert int(obj.units) == 48  # kilowatts


async def test_status_mapping() -> None:
    po = build_object(POWER)
    po.apply(reading(POWER, 3.5))
    assert (po.obj.presentValue, list(po.obj.statusFlags)) == (3.5, [0, 0, 0, 0])
    po.apply(reading(POWER, 4.0, PointStatus.COMM_FAILURE))
    # a failed read shows the last good value, flagged
    assert po.obj.presentValue == 3.5
    assert (str(po.obj.reliability), list(po.obj.statusFlags)) == ("communication-failure", [0, 1, 0, 0])
    po.apply(reading(POWER, 4.0, PointStatus.STALE))
    assert (str(po.obj.reliability), list(po.obj.statusFlags)) == ("unreliable-other", [0, 1, 0, 0])
    po.apply(reading(POWER, 4.5, PointStatus.OUT_OF_SERVICE))
    assert (po.obj.presentValue, bool(po.obj.outOfService), list(po.obj.statusFlags)) == (4.5, True, [0, 0, 0, 1])
    po.apply(reading(POWER, 5.0))
    assert (bool(po.obj.outOfService), list(po.obj.statusFlags)) == (False, [0, 0, 0, 0])


async def test_point_marked_out_of_service_stays_out_of_service() -> None:
    po = build_object(SPARE)
    po.apply(reading(SPARE, 1.0))
    assert list(po.obj.statusFlags) == [0, 0, 0, 1]


async def test_accumulator_is_scaled_exact_and_wraps() -> None:
    po = build_object(ENERGY, accumulator_decimals=3)
    po.apply(reading(ENERGY, 1_234_567.891))
    assert po.obj.presentValue == 1_234_567_891
    assert po.obj.scale.integerScale == -3
    po.apply(reading(ENERGY, (UNSIGNED32_MAX + 1) / 1000 + 0.005))  # one turn of the register later
    assert po.obj.presentValue == 5
    po.apply(reading(ENERGY, -1.0))
    assert po.obj.presentValue == 5 and str(po.obj.reliability) == "under-range"


async def test_large_analog_value_keeps_what_a_real_loses() -> None:
    po = build_object(ENERGY_HR)
    po.apply(reading(ENERGY_HR, 1_234_567.891))
    assert po.obj.presentValue == 1_234_567.891  # Double; a REAL would give 1234567.875


async def test_binary_value() -> None:
    po = build_object(LEAK)
    po.apply(reading(LEAK, 1))
    assert str(po.obj.presentValue) == "active"
    po.apply(reading(LEAK, 0))
    assert str(po.obj.presentValue) == "inactive"
