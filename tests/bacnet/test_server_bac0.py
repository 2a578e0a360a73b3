"""The server under test against BAC0, a second independent client, in its own process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.exposure.points import PointStatus
from tests.bacnet.conftest import ENERGY, ENERGY_HR, HEAT, LEAK, POWER, reading
from tests.support.services import free_udp_port

pytestmark = pytest.mark.slow


async def test_bac0_reads_values_units_and_status(
    server: BacnetServer, settings: BacnetDeviceSettings, spawn: Callable[..., Any], tmp_path: Path
) -> None:
    server.update(reading(POWER, 7.5, PointStatus.COMM_FAILURE))  # never read: no value, comm failure
    server.update(reading(ENERGY, 2_000.125))
    server.update(reading(ENERGY_HR, 2_000.125))
    server.update(reading(LEAK, 1))
    home = tmp_path / "home"
    home.mkdir()
    objects = ["analog-input:1", "accumulator:1", "large-analog-value:1", "large-analog-value:2", "binary-value:1"]
    client = await spawn(
        "bac0_client.py",
        "--port",
        str(free_udp_port()),
        "--server",
        settings.unicast_address,
        *objects,
        env={"HOME": str(home)},  # BAC0 writes ~/.BAC0/
    )
    out = await client.rest(within=60)
    values = {line["object"]: line["values"] for line in out if "values" in line}
    singles = {line["object"]: line["read_present_value"] for line in out if "read_present_value" in line}
    # BAC0 shows units as their BACnetEngineeringUnits numbers
    assert values["analog-input:1"] == {"present-value": 0.0, "units": 48, "status-flags": [0, 1, 0, 0]}
    assert values["accumulator:1"] == {"present-value": 2_000_125, "units": 19, "status-flags": [0, 0, 0, 0]}
    assert values["large-analog-value:1"] == {"present-value": 2_000.125, "units": 19, "status-flags": [0, 0, 0, 0]}
    assert values["large-analog-value:2"]["units"] == 47925  # GJ, ASHRAE extended range
    assert values["large-analog-value:2"]["status-flags"] == [0, 1, 0, 0]
    assert values["binary-value:1"] == {"present-value": 1, "status-flags": [0, 0, 0, 0]}
    assert singles == {
        "analog-input:1": 0.0,
        "accumulator:1": 2_000_125,
        "large-analog-value:1": 2_000.125,
        "large-analog-value:2": 0.0,
        "binary-value:1": 1,
    }
    assert HEAT.unit == "GJ"
