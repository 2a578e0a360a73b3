"""docs/pics.md checked against the running servers' own answers, read by independent clients.

The tables of the document are parsed; every claim in them is asked of a real BACnet device (through
bac-py, in its own process) and a real OPC UA server (through python-opcua, in its own process).
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bacpypes3.basetypes import PropertyIdentifier, Segmentation, ServicesSupported
from bacpypes3.primitivedata import ObjectType

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.exposure.points import TrendRecord
from bms_bridge.opcua import OpcUaServer, OpcUaSettings
from tests.bacnet.conftest import DEVICE_INSTANCE, POINTS, POWER, objref, point, reading
from tests.bacnet.test_conformance_bacpy import bits, run_bacpy
from tests.opcua.conftest import CLIENTS, NS_URI, MemoryHistory, json_lines, run_client
from tests.opcua.conftest import point as ua_point
from tests.support.services import free_tcp_port, free_udp_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "pics.md"
DEVICE = f"device,{DEVICE_INSTANCE}"


def table(heading: str) -> list[dict[str, str]]:
    """The first Markdown table after `heading`, as one dict per row keyed by the header cells."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip("#").strip() == heading and line.startswith("#"))
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    header, _rule, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def bacnet_name(doc_name: str) -> str:
    """'Number_Of_APDU_Retries' -> 'number-of-apdu-retries', as clause 21 spells identifiers."""
    return doc_name.strip().lower().replace("_", "-")


def names(cell: str) -> set[str]:
    return {bacnet_name(n) for n in cell.split(",") if n.strip()}


def service_bit(doc_name: str) -> int:
    """'Who-Is' -> whoIs, 'ReadPropertyMultiple' -> readPropertyMultiple: the BACnetServicesSupported bit."""
    attr = re.sub(r"[^A-Za-z]", "", doc_name)
    attr = attr[0].lower() + attr[1:]
    return int(getattr(ServicesSupported, attr))


@pytest.fixture
def settings() -> BacnetDeviceSettings:
    return BacnetDeviceSettings(
        device_instance=DEVICE_INSTANCE, device_name="bms-bridge-pics", address=f"127.0.0.1/8:{free_udp_port()}"
    )


RANGED = point("ranged-power", "analog-input", 3, "kW", eu_range=(0.0, 250.0), trend_log=True)


class NoReadings:
    """A trend source with nothing stored: the Trend Log objects exist, their buffers are empty."""

    async def count(self, point_id: str, before: datetime | None = None, inclusive: bool = False) -> int:
        return 0

    async def page(self, point_id: str, offset: int, limit: int) -> list[TrendRecord]:
        return []


@pytest.fixture
async def bacnet(settings: BacnetDeviceSettings) -> Any:
    async with BacnetServer(settings, [*POINTS, RANGED], trends=NoReadings()) as server:
        server.update(reading(POWER, 1.5))
        yield server


async def test_bacnet_claims_are_what_the_device_answers(
    bacnet: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    device_rows = table("Device object")
    bibbs = table("BIBBs supported")
    object_rows = {row["object type"]: row for row in table("Object types and their properties")}
    instances = {"device": DEVICE, "network-port": "network-port,1"}
    for p in [*POINTS, RANGED]:
        instances.setdefault(p.bacnet_object, objref(p))
    instances["trend-log"] = f"trend-log,{RANGED.bacnet_instance}"
    objects = [*instances.values(), objref(RANGED)]
    steps: list[dict[str, Any]] = [
        *({"op": "read", "object": DEVICE, "property": bacnet_name(row["property"])} for row in device_rows),
        {"op": "raw-read", "object": DEVICE, "property": "protocol-services-supported"},
        {"op": "raw-read", "object": DEVICE, "property": "protocol-object-types-supported"},
        *({"op": "read", "object": obj, "property": "property-list"} for obj in objects),
    ]
    results = await run_bacpy(settings, steps, tmp_path)
    answers = iter(results)

    for row in device_rows:
        got = next(answers)["value"]
        claimed = row["value"]
        if row["property"] == "Segmentation_Supported":
            assert got == int(Segmentation(claimed)), row
        elif claimed.isdigit():
            assert got == int(claimed), row
        else:
            assert got == claimed, row

    services = bits(next(answers)["hex"])
    assert services == {service_bit(row["services executed"]) for row in bibbs}
    object_types = bits(next(answers)["hex"])
    assert object_types == {int(ObjectType(kind)) for kind in object_rows}
    assert set(instances) == set(object_rows)  # every documented type is served by the test device

    for obj in objects:
        listed = {str(PropertyIdentifier(n)) for n in next(answers)["value"]}
        row = object_rows[obj.split(",")[0]]
        always, optional = names(row["properties"]), names(row["when configured"])
        assert always <= listed <= always | optional, (obj, listed ^ always)
        if obj == objref(RANGED):
            assert {"min-pres-value", "max-pres-value"} <= listed
    # clause 12, Property_List: it leaves out the four properties every object has
    assert not {"object-identifier", "object-name", "object-type", "property-list"} & listed


async def test_segmentation_claim_holds_for_a_large_object_list(settings: BacnetDeviceSettings, tmp_path: Path) -> None:
    many = [point(f"p{i}", "analog-input", 100 + i, "kW") for i in range(400)]
    async with BacnetServer(settings, many):
        [result] = await run_bacpy(settings, [{"op": "read", "object": DEVICE, "property": "object-list"}], tmp_path)
    # 402 object identifiers of 5 octets each: about 2 kB, more than one 1476-octet APDU
    assert len(result["value"]) == 402


async def profiles_of(with_history: bool) -> list[str]:
    history = MemoryHistory() if with_history else None
    settings = OpcUaSettings(endpoint=f"opc.tcp://127.0.0.1:{free_tcp_port()}", namespace_uri=NS_URI)
    points = [ua_point("active-power", "kW")]
    async with OpcUaServer(settings, points, history=history.read if history else None):
        rc, lines = await run_client(
            sys.executable, CLIENTS / "python_opcua_inspect.py", settings.endpoint, '[{"op": "server-profiles"}]'
        )
    assert rc == 0, lines
    [result] = json_lines(lines)
    profiles: list[str] = result["profiles"]
    return profiles


async def test_opcua_profiles_are_what_the_server_publishes() -> None:
    claimed = [
        row["profile URI"] for row in table("Profiles and facets (Server_ServerCapabilities_ServerProfileArray)")
    ]
    assert await profiles_of(with_history=True) == claimed
    # without a history source the Historical Raw Data facet is not claimed (docs/pics.md says so)
    assert await profiles_of(with_history=False) == [u for u in claimed if not u.endswith("/HistoricalRawData")]
