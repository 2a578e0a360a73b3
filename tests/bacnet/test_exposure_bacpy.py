"""What a BMS reads from our objects, checked with bac-py (a stack sharing no code with ours), in its own process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from tests.bacnet.conftest import objref, point, reading
from tests.bacnet.test_conformance_bacpy import run_bacpy

REACTIVE = point("reactive-power", "analog-input", 11, "var")
REACTIVE_K = point("reactive-power-k", "analog-input", 12, "kvar")
APPARENT = point("apparent-power", "analog-input", 13, "VA")
APPARENT_ENERGY = point("apparent-energy", "large-analog-value", 14, "kVAh")
UNIT_POINTS = [REACTIVE, REACTIVE_K, APPARENT, APPARENT_ENERGY]


@pytest.fixture
async def unit_server(settings: BacnetDeviceSettings) -> Any:
    async with BacnetServer(settings, UNIT_POINTS) as srv:
        for p in UNIT_POINTS:
            srv.update(reading(p, 1.0))
        yield srv


async def test_reactive_and_apparent_units_decode_as_such(
    unit_server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    steps = [{"op": "read", "object": objref(p), "property": "units"} for p in UNIT_POINTS]
    results = await run_bacpy(settings, steps, tmp_path)
    # clause 21 BACnetEngineeringUnits: volt-amperes-reactive 11, kilovolt-amperes-reactive 12 (not 45/46,
    # pounds-mass per minute/hour), volt-amperes 8, kilovolt-ampere-hours 240
    assert [r["value"] for r in results] == [11, 12, 8, 240]


WRITABLE_TOTAL = point("meter-offset", "large-analog-value", 20, "kWh", writable=True)


@pytest.fixture
async def writable_server(settings: BacnetDeviceSettings) -> Any:
    async with BacnetServer(settings, [WRITABLE_TOTAL]) as srv:
        srv.update(reading(WRITABLE_TOTAL, 10.0))
        yield srv


async def test_a_real_written_to_a_double_present_value_is_an_error(
    writable_server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    obj = objref(WRITABLE_TOTAL)
    results = await run_bacpy(
        settings,
        [
            # REAL 1.0 (application tag 4, 20.2.6) where the property is a Double (tag 5)
            {"op": "write-raw", "object": obj, "property": "present-value", "hex": "443f800000"},
            {"op": "read", "object": obj, "property": "present-value"},
            {"op": "write", "object": obj, "property": "present-value", "value": 1.0},  # bac-py sends a REAL
            {"op": "wpm", "object": obj, "property": "present-value", "value": 1.0},
            # the right datatype: Double 2.5 (20.2.7)
            {"op": "write-raw", "object": obj, "property": "present-value", "hex": "55084004000000000000"},
            {"op": "read", "object": obj, "property": "present-value"},
        ],
        tmp_path,
    )
    # 15.9.1.3.1: a value of the wrong datatype is a Result(-) Error, not a Reject of the whole request
    assert results[0]["error"] == "property/invalid_data_type"
    assert results[1]["value"] == 10.0  # unchanged
    assert results[2]["error"] == results[3]["error"] == "property/invalid_data_type"
    assert results[4].get("ack") is True
    assert results[5]["value"] == 2.5
