"""The server under test (in this process) against a bacpypes3 client in its own process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.exposure.points import PointStatus
from tests.bacnet.conftest import (
    DEVICE_INSTANCE,
    ENERGY,
    ENERGY_HR,
    HEAT,
    LEAK,
    POWER,
    SPARE,
    objref,
    point,
    reading,
)

pytestmark = pytest.mark.slow

Client = Callable[[list[dict[str, Any]]], Any]


async def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_discovery(server: BacnetServer, settings: BacnetDeviceSettings, bacpypes3_client: Client) -> None:
    broadcast = f"127.255.255.255:{settings.port}"  # a peer on another port only sees a directed broadcast
    client = await bacpypes3_client(
        [
            {"op": "who-is", "address": broadcast, "low": DEVICE_INSTANCE, "high": DEVICE_INSTANCE},
            {"op": "who-is", "address": broadcast, "timeout": 1},  # no range: collects for 1 s
            {"op": "who-is", "address": broadcast, "low": 1, "high": 10, "timeout": 1},  # not us
            {"op": "who-is", "address": settings.unicast_address, "low": DEVICE_INSTANCE, "high": DEVICE_INSTANCE},
            {"op": "who-has", "name": POWER.name},
            {"op": "who-has", "name": "no such object"},
        ]
    )
    ranged, unranged, other, unicast, has, has_not = await client.rest()
    expected = {"device": f"device,{DEVICE_INSTANCE}", "source": settings.unicast_address, "vendor": 999}
    assert ranged["i_ams"] == [expected]
    assert unranged["i_ams"] == [expected]
    assert other["i_ams"] == []
    assert unicast["i_ams"] == [expected]
    assert has["i_haves"] == [{"device": f"device,{DEVICE_INSTANCE}", "object": objref(POWER)}]
    assert has_not["i_haves"] == []


async def test_read_property_and_multiple(server: BacnetServer, bacpypes3_client: Client) -> None:
    server.update(reading(POWER, 42.25))
    server.update(reading(ENERGY, 1_234_567.891))
    server.update(reading(ENERGY_HR, 1_234_567.891))
    steps: list[dict[str, Any]] = [
        {"op": "read", "object": objref(POWER), "property": prop}
        for prop in ("present-value", "units", "status-flags", "object-name", "reliability", "cov-increment")
    ]
    steps += [
        {"op": "rpm", "object": objref(POWER), "properties": ["all"]},
        {"op": "rpm", "object": objref(ENERGY), "properties": ["all"]},
        {"op": "rpm", "object": objref(ENERGY_HR), "properties": ["required"]},
        {"op": "rpm", "object": objref(HEAT), "properties": ["optional"]},
        {"op": "rpm", "object": objref(LEAK), "properties": ["all"]},
        {"op": "rpm", "object": f"device,{DEVICE_INSTANCE}", "properties": ["object-list", "vendor-identifier"]},
        {"op": "read", "object": objref(HEAT), "property": "units"},
    ]
    client = await bacpypes3_client(steps)
    out = await client.rest()
    reads = {
        line["property"]: line["value"] for line in out if line["op"] == "read" and line["object"] == objref(POWER)
    }
    assert reads == {
        "present-value": 42.25,
        "units": "kilowatts",
        "status-flags": [0, 0, 0, 0],
        "object-name": POWER.name,
        "reliability": "no-fault-detected",
        "cov-increment": 0.5,
    }
    rpm = {line["object"]: line["values"] for line in out if line["op"] == "rpm"}
    ai = rpm[objref(POWER)]
    assert ai["present-value"] == 42.25 and ai["units"] == "kilowatts"
    assert ai["description"] == POWER.description and ai["object-type"] == "analog-input"
    acc = rpm[objref(ENERGY)]
    assert acc["present-value"] == 1_234_567_891 and acc["scale"] == {"integerScale": -3}
    assert acc["units"] == "kilowatt-hours" and acc["max-pres-value"] == 2**32 - 1
    lav = rpm[objref(ENERGY_HR)]
    assert lav["present-value"] == 1_234_567.891  # Double: exact where a REAL gives 1234567.875
    assert set(lav) >= {"present-value", "status-flags", "units"}
    heat = rpm[objref(HEAT)]  # optional properties only
    assert "present-value" not in heat and "units" not in heat
    assert heat["reliability"] == "no-sensor" and heat["description"] == HEAT.description
    # GJ sits in ASHRAE's extended range, unknown to bacpypes3's enum: it still travels as 47925
    assert [line["value"] for line in out if line["object"] == objref(HEAT) and line["op"] == "read"] == ["47925"]
    bv = rpm[objref(LEAK)]
    assert bv["present-value"] == "inactive" and bv["status-flags"] == [0, 1, 0, 0]
    device = rpm[f"device,{DEVICE_INSTANCE}"]
    assert device["vendor-identifier"] == 999
    assert set(device["object-list"]) >= {objref(p) for p in (POWER, ENERGY, ENERGY_HR, HEAT, LEAK, SPARE)}


async def test_status_flags_follow_updates(server: BacnetServer, bacpypes3_client: Client) -> None:
    status_reads = [
        {"op": "rpm", "object": objref(POWER), "properties": ["present-value", "status-flags", "reliability"]},
        {"op": "rpm", "object": objref(SPARE), "properties": ["out-of-service", "status-flags"]},
    ]
    client = await bacpypes3_client(
        [{"op": "pause", "tag": "comm"}, *status_reads, {"op": "pause", "tag": "ok"}, *status_reads]
    )
    await client.until(lambda d: d.get("event") == "paused")
    server.update(reading(POWER, 10.0))
    server.update(reading(POWER, 11.0, PointStatus.COMM_FAILURE))
    await client.resume()
    power = await client.until(lambda d: d.get("object") == objref(POWER))
    assert power["values"] == {
        "present-value": 10.0,  # the last good value stays, flagged
        "status-flags": [0, 1, 0, 0],
        "reliability": "communication-failure",
    }
    spare = await client.until(lambda d: d.get("object") == objref(SPARE))
    assert spare["values"] == {"out-of-service": 1, "status-flags": [0, 1, 0, 1]}  # no value yet: fault too
    await client.until(lambda d: d.get("event") == "paused")
    server.update(reading(POWER, 12.0))
    server.update(reading(SPARE, 0.0, PointStatus.OUT_OF_SERVICE))
    await client.resume()
    rest = await client.rest()
    assert rest[0]["values"] == {
        "present-value": 12.0,
        "status-flags": [0, 0, 0, 0],
        "reliability": "no-fault-detected",
    }
    assert rest[1]["values"] == {"out-of-service": 1, "status-flags": [0, 0, 0, 1]}


async def notification(client: Any, within: float = 2.0) -> dict[str, Any]:
    """The next COV notification: present-value then status-flags (13.1, Table 13-1 reported values)."""
    value = await client.until(lambda d: d.get("event") == "cov", within)
    flags = await client.until(lambda d: d.get("event") == "cov", within)
    assert (value["property"], flags["property"]) == ("present-value", "status-flags")
    return {"value": value["value"], "flags": flags["value"], "t": value["t"]}


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "unconfirmed"])
async def test_cov_notification_within_a_second(
    server: BacnetServer, bacpypes3_client: Client, confirmed: bool
) -> None:
    server.update(reading(POWER, 100.0))
    client = await bacpypes3_client(
        [{"op": "subscribe", "object": objref(POWER), "confirmed": confirmed, "lifetime": 60, "count": 4}]
    )
    await client.until(lambda d: d.get("event") == "subscribed")
    initial = await notification(client)  # 13.1: a new subscription gets the current value at once
    assert initial["value"] == 100.0 and initial["flags"] == [0, 0, 0, 0]
    assert server.cov_subscription_count == 1

    server.update(reading(POWER, 100.2))  # below COV_Increment 0.5: no notification
    t0 = time.monotonic()
    server.update(reading(POWER, 101.0))
    changed = await notification(client)
    assert changed["value"] == 101.0  # 100.2 was never reported
    assert changed["t"] - t0 < 1.0  # CLOCK_MONOTONIC is shared by both processes on Linux

    t0 = time.monotonic()
    server.update(reading(POWER, 101.0, PointStatus.COMM_FAILURE))  # a status change alone notifies
    failed = await notification(client)
    assert failed == {"value": 101.0, "flags": [0, 1, 0, 0], "t": failed["t"]} and failed["t"] - t0 < 1.0

    server.update(reading(ENERGY, 5.0))  # another object: not reported to this subscriber
    server.update(reading(POWER, 101.0))
    back = await notification(client)
    assert back["value"] == 101.0 and back["flags"] == [0, 0, 0, 0]
    await client.rest()  # the client cancels its subscription on exit
    await wait_for(lambda: server.cov_subscription_count == 0, 5, "subscription cancel")


async def test_cov_on_accumulator_and_large_analog_value(server: BacnetServer, bacpypes3_client: Client) -> None:
    client = await bacpypes3_client(
        [
            {"op": "subscribe", "object": objref(ENERGY), "confirmed": True, "count": 2, "lifetime": 30},
            {"op": "subscribe", "object": objref(ENERGY_HR), "confirmed": False, "count": 2, "lifetime": 30},
        ]
    )
    await client.until(lambda d: d.get("event") == "subscribed" and d["object"] == objref(ENERGY))
    assert (await notification(client))["flags"] == [0, 1, 0, 0]  # no value yet
    server.update(reading(ENERGY, 10.5))
    assert await notification(client) == {"value": 10_500, "flags": [0, 0, 0, 0], "t": client.lines[-2]["t"]}
    await client.until(lambda d: d.get("event") == "subscribed" and d["object"] == objref(ENERGY_HR))
    await notification(client)
    server.update(reading(ENERGY_HR, 10.5))
    assert (await notification(client))["value"] == 10.5
    await client.rest()


async def test_cov_subscription_expires_after_its_lifetime(server: BacnetServer, bacpypes3_client: Client) -> None:
    client = await bacpypes3_client(
        [{"op": "subscribe", "object": objref(LEAK), "confirmed": False, "lifetime": 1, "abandon": True}]
    )
    await client.rest()
    assert server.cov_subscription_count == 1
    await wait_for(lambda: server.cov_subscription_count == 0, 5, "subscription expiry")  # 13.14.1.5 Lifetime


async def test_writes_are_refused(server: BacnetServer, bacpypes3_client: Client) -> None:
    client = await bacpypes3_client(
        [{"op": "write", "object": objref(POWER), "property": "present-value", "value": 1.0}]
    )
    (result,) = await client.rest()
    assert result == {"op": "write", "ok": False, "error": "write-access-denied"}


async def test_objects_added_and_removed_after_start(server: BacnetServer, bacpypes3_client: Client) -> None:
    later = point("tenant-7-consumption", "analog-value", 7, "kWh")
    device = f"device,{DEVICE_INSTANCE}"
    revision = {"op": "read", "object": device, "property": "database-revision"}
    client = await bacpypes3_client(
        [revision, {"op": "pause"}, revision, {"op": "read", "object": objref(later), "property": "present-value"}]
    )
    before = await client.until(lambda d: d.get("op") == "read")
    await client.until(lambda d: d.get("event") == "paused")
    server.add_object(later)
    server.update(reading(later, 77.0))
    await client.resume()
    after, value = await client.rest()
    assert after["value"] == before["value"] + 1  # 12.11 Database_Revision
    assert value["value"] == 77.0
    server.remove_object(later.point_id)
    with pytest.raises(KeyError):
        server.update(reading(later, 1.0))
