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
