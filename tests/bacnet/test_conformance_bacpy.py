"""Conformance of the device as seen by bac-py, a BACnet stack that shares no code with ours.

Checks what a BMS plans its requests from: Protocol_Services_Supported must list exactly what the
device executes (every claimed service answered, every unclaimed one rejected as unrecognized-service),
and every write is refused with the proper error unless YAML allowed it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from tests.bacnet.conftest import DEVICE_INSTANCE, ENERGY_HR, POINTS, POWER, ClientProcess, objref, point, reading
from tests.bacnet.peers import require_bacpy
from tests.support.services import free_udp_port

CLIENT = Path(__file__).parent / "clients" / "bacpy_client.py"
DEVICE = f"device,{DEVICE_INSTANCE}"
PORT_OBJECT = "network-port,1"

# BACnetServicesSupported bit numbers (clause 21) of the services the device executes
CONFIRMED_EXECUTED = {
    "read-property": 12,
    "read-property-multiple": 14,
    "write-property": 15,
    "write-property-multiple": 16,
    "subscribe-cov": 5,
}
UNCONFIRMED_EXECUTED = {"who-has": 33, "who-is": 34}


async def run_bacpy(settings: BacnetDeviceSettings, steps: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    python = require_bacpy()
    proc = await asyncio.create_subprocess_exec(
        str(python),
        str(CLIENT),
        "--port",
        str(free_udp_port()),
        "--server",
        settings.unicast_address,
        json.dumps(steps),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=str(tmp),
    )
    client = ClientProcess(proc)
    try:
        lines = await client.rest(within=120)
    finally:
        await client.kill()
    return [line for line in lines if line.get("event") == "result"]


def bits(hex_value: str) -> set[int]:
    """Set bit numbers of an application-tagged BIT STRING (20.2.10): tag, unused-bits octet, octets."""
    raw = bytes.fromhex(hex_value)
    length = raw[0] & 0x07
    offset = 1
    if length == 5:
        length, offset = raw[1], 2
    body = raw[offset + 1 : offset + length]
    unused = raw[offset]
    count = len(body) * 8 - unused
    return {i for i in range(count) if body[i // 8] & (0x80 >> (i % 8))}


@pytest.fixture
async def server(settings: BacnetDeviceSettings) -> Any:
    writable = point("setpoint", "analog-value", 9, "kW", writable=True)
    async with BacnetServer(settings, [*POINTS, writable]) as srv:
        srv.update(reading(POWER, 1.5))
        yield srv


# Well-formed requests (clause 21 encodings, hand-assembled) for services a BMS might send; an empty
# request body is dropped by the decoder, so only a valid one shows whether the service is recognized.
AI1, DEV = "0c00000001", "0c0205f371"  # [0] analog-input,1 / device,390001
EXECUTED_REQUESTS = {
    12: AI1 + "1955",  # ReadProperty present-value
    14: AI1 + "1e09551f",  # ReadPropertyMultiple present-value
    15: AI1 + "1955" + "3e44000000003f",  # WriteProperty present-value REAL 0.0: refused, but executed
    16: AI1 + "1e09552e44000000002f1f",  # WritePropertyMultiple, the same
    5: "0901" + "1c00000001" + "2900" + "393c",  # SubscribeCOV, unconfirmed, 60 s
}
NOT_EXECUTED_REQUESTS = {
    0: "0901" + "1c00000001" + "2900" + "3e19003f" + "4a0041" + "5e19005f",  # AcknowledgeAlarm
    1: "0901" + "1c02000001" + "2c00000001" + "3900" + "4e09552e44000000002f4f",  # ConfirmedCOVNotification
    7: "c402800001" + "0e310061000f",  # AtomicWriteFile
    8: DEV + "194c" + "3ec4000000013f",  # AddListElement
    17: "0900",  # DeviceCommunicationControl: would let anyone silence the gateway
    20: "0900",  # ReinitializeDevice
    26: AI1 + "1955",  # ReadRange: not executed by a device without Trend Logs (no trend source)
    3: "",  # GetAlarmSummary
    29: "",  # GetEventInformation
}


async def test_services_supported_is_what_the_device_executes(
    server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    requests = {**EXECUTED_REQUESTS, **NOT_EXECUTED_REQUESTS}
    steps: list[dict[str, Any]] = [
        {"op": "raw-read", "object": DEVICE, "property": "protocol-services-supported"},
        {"op": "who-is", "low": DEVICE_INSTANCE, "high": DEVICE_INSTANCE},
        {"op": "who-has", "name": POWER.name},
        *({"op": "confirmed", "service": choice, "hex": data} for choice, data in requests.items()),
    ]
    results = await run_bacpy(settings, steps, tmp_path)
    claimed = bits(results[0]["hex"])
    assert claimed == set(CONFIRMED_EXECUTED.values()) | set(UNCONFIRMED_EXECUTED.values())
    assert results[1]["devices"] == [DEVICE_INSTANCE]
    assert results[2]["objects"] == [POWER.name]
    for result in results[3:]:
        choice = result["step"]["service"]
        if choice in EXECUTED_REQUESTS:
            assert result.get("ack") or result.get("error") == "property/write_access_denied", result
        else:
            assert result.get("reject") == "unrecognized_service", result


async def test_object_types_supported_lists_the_served_types(
    server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    [result] = await run_bacpy(
        settings, [{"op": "raw-read", "object": DEVICE, "property": "protocol-object-types-supported"}], tmp_path
    )
    # BACnetObjectType numbers (clause 21): analog-input 0, analog-value 2, binary-value 5, device 8,
    # accumulator 23, large-analog-value 46, network-port 56
    assert bits(result["hex"]) == {0, 2, 5, 8, 23, 46, 56}


# Every property of the served objects a BMS might try to write, with a value of its own datatype.
WRITABLE_LOOKING = {
    DEVICE: [
        "object-name",
        "description",
        "location",
        "vendor-name",
        "model-name",
        "apdu-timeout",
        "number-of-apdu-retries",
        "utc-offset",
        "database-revision",
    ],
    PORT_OBJECT: ["object-name", "description", "out-of-service"],
}
POINT_PROPERTIES = [
    "object-name",
    "description",
    "present-value",
    "out-of-service",
    "cov-increment",
    "units",
    "reliability",
    "min-pres-value",
]
VALUES: dict[str, Any] = {
    "object-name": "renamed",
    "description": "x",
    "location": "x",
    "vendor-name": "x",
    "model-name": "x",
    "apdu-timeout": 1,
    "number-of-apdu-retries": 1,
    "utc-offset": 60,
    "database-revision": 7,
    "out-of-service": True,
    "present-value": 1.0,
    "cov-increment": 1.0,
    "units": 95,
    "reliability": 0,
    "min-pres-value": 0.0,
}


async def test_every_write_is_refused_unless_yaml_allows_it(
    server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    targets: dict[str, list[str]] = dict(WRITABLE_LOOKING)
    for p in POINTS:
        targets[objref(p)] = [prop for prop in POINT_PROPERTIES if _has(p.bacnet_object, prop)]
    steps: list[dict[str, Any]] = []
    for obj, props in targets.items():
        for prop in props:
            value = VALUES[prop]
            if prop == "present-value" and obj.startswith("binary"):
                value = 1
            steps.append({"op": "write", "object": obj, "property": prop, "value": value})
            steps.append({"op": "wpm", "object": obj, "property": prop, "value": value})
    steps.append({"op": "read", "object": DEVICE, "property": "object-name"})
    results = await run_bacpy(settings, steps, tmp_path)
    for result in results[:-1]:
        assert result.get("error") == "property/write_access_denied", result
    assert results[-1]["value"] == "bms-bridge-test"  # nothing was renamed


async def test_yaml_writable_point_accepts_its_present_value_only(
    server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    results = await run_bacpy(
        settings,
        [
            {"op": "write", "object": "analog-value,9", "property": "present-value", "value": 4.5},
            {"op": "wpm", "object": "analog-value,9", "property": "present-value", "value": 5.5},
            {"op": "read", "object": "analog-value,9", "property": "present-value"},
            {"op": "write", "object": "analog-value,9", "property": "object-name", "value": "x"},
        ],
        tmp_path,
    )
    assert [r.get("ack") for r in results[:2]] == [True, True]
    assert results[2]["value"] == 5.5
    assert results[3]["error"] == "property/write_access_denied"


async def test_wrong_datatype_gets_an_error_not_a_reject(
    server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    real_one = "3f800000"  # REAL 1.0, application tag 4 (20.2.6)
    results = await run_bacpy(
        settings,
        [
            # read-only Double present-value: refused for access before its datatype is even looked at
            {"op": "write-raw", "object": objref(ENERGY_HR), "property": "present-value", "hex": "44" + real_one},
            # writable REAL present-value given a CharacterString: invalid-data-type
            {"op": "write-raw", "object": "analog-value,9", "property": "present-value", "hex": "7500" + "41"},
        ],
        tmp_path,
    )
    assert results[0]["error"] == "property/write_access_denied"
    assert results[1]["error"] == "property/invalid_data_type"


def _has(kind: str, prop: str) -> bool:
    if kind == "binary-value":
        return prop not in ("cov-increment", "units", "min-pres-value")
    if kind == "accumulator":
        return prop not in ("cov-increment", "min-pres-value")
    if kind in ("analog-input", "large-analog-value"):
        return prop != "min-pres-value"
    return prop != "min-pres-value"
