"""The server seen by an independent asyncua client process: tree, units, status codes, subscription, history."""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bms_bridge.exposure.points import PointStatus, PointValue
from tests.opcua.conftest import CLIENTS, NS_URI, T0, USERS, Running, client_process, probe, read_line_until

pytestmark = pytest.mark.asyncio(loop_scope="package")


def nid(opcua: Running, point_id: str) -> str:
    return opcua.server.node_id(point_id)


async def test_folder_tree_follows_site_building_tenant_meter(opcua: Running) -> None:
    rows = await probe(opcua.url, "tree", NS_URI)
    folders = {tuple(r["path"]) for r in rows if r["kind"] == "Object"}
    variables = {tuple(r["path"]): r["node_id"] for r in rows if r["kind"] == "Variable"}
    assert ("SiteA",) in folders
    assert ("SiteA", "B-A", "IT-Co", "M-A3-01") in folders
    assert ("SiteA", "B-A", "Common", "W-01") in folders
    energy = ("SiteA", "B-A", "IT-Co", "M-A3-01", "B-A.IT-Co.M-A3-01.active-energy")
    assert variables[energy] == "ns=2;s=SiteA.B-A.IT-Co.M-A3-01.active-energy"
    assert len(variables) == 9  # properties live in namespace 0 and are not listed here


async def test_engineering_units_and_range_are_namespace_zero_properties(opcua: Running) -> None:
    energy, power = await probe(opcua.url, "read", nid(opcua, "active-energy"), nid(opcua, "active-power"))
    assert energy["type_definition"] == "i=2368"  # AnalogItemType
    assert energy["data_type"] == "i=11"  # Double
    assert energy["properties"] == ["0:EURange", "0:EngineeringUnits"]
    assert energy["eu"] == {
        "namespace_uri": "http://www.opcfoundation.org/UA/units/un/cefact",
        "unit_id": 4937544,  # KWH
        "display_name": "kWh",
        "description": "kilowatt hour",
    }
    assert energy["eu_range"] == ["-inf", "inf"]  # no range configured: unbounded
    assert power["eu"]["unit_id"] == 4937556  # KWT
    assert power["eu_range"] == [0.0, 250.0]
    assert energy["access_level"] == ["CurrentRead", "HistoryRead"]


async def test_values_status_codes_and_source_timestamps(opcua: Running) -> None:
    server = opcua.server
    measured = datetime(2026, 3, 2, 10, 15, 0, tzinfo=UTC)
    await server.update(PointValue("active-energy", 12345.5, measured))
    await server.update(PointValue("stale-power", 42.0, measured, PointStatus.STALE))
    await server.update(PointValue("offline-energy", 777.0, measured, PointStatus.COMM_FAILURE))
    await server.update(PointValue("offline-nan", math.nan, measured, PointStatus.COMM_FAILURE))
    ids = ["active-energy", "stale-power", "offline-energy", "offline-nan", "never-read", "retired"]
    rows = {r["node_id"]: r for r in await probe(opcua.url, "read", *(nid(opcua, p) for p in ids))}
    by_point = {p: rows[nid(opcua, p)] for p in ids}
    assert by_point["active-energy"]["value"] == 12345.5
    assert by_point["active-energy"]["variant_type"] == "Double"
    assert by_point["active-energy"]["status"] == "Good"
    assert datetime.fromisoformat(by_point["active-energy"]["source_timestamp"]) == measured
    assert by_point["stale-power"]["status"] == "UncertainLastUsableValue"
    assert by_point["stale-power"]["value"] == 42.0
    assert by_point["offline-energy"]["status"] == "UncertainNoCommunicationLastUsableValue"
    assert by_point["offline-energy"]["value"] == 777.0
    assert by_point["offline-nan"]["status"] == "BadNoCommunication"
    assert by_point["offline-nan"]["value"] is None  # Part 4 7.7.1: Bad -> null value
    assert by_point["never-read"]["status"] == "BadWaitingForInitialData"
    assert by_point["retired"]["status"] == "BadOutOfService"


async def test_subscription_receives_update(opcua: Running) -> None:
    node_id = nid(opcua, "active-power")
    async with client_process(
        sys.executable, CLIENTS / "asyncua_probe.py", opcua.url, "subscribe", node_id, "1"
    ) as process:
        await read_line_until(process, '"subscribed"')
        measured = datetime.now(UTC).replace(microsecond=0)
        await opcua.server.update(PointValue("active-power", 88.25, measured))
        lines = await read_line_until(process, '"datachange"')
    change = next(line for line in lines if "datachange" in line)
    assert '"value": 88.25' in change
    assert '"status": "Good"' in change
    assert measured.isoformat() in change


async def test_history_read_goes_through_the_history_callable(opcua: Running) -> None:
    node_id = nid(opcua, "active-energy")
    reads_before = opcua.history.reads
    start, end = T0 + timedelta(hours=10), T0 + timedelta(hours=15)
    rows = await probe(opcua.url, "history", node_id, start.isoformat(), end.isoformat(), "0")
    samples = [r for r in rows if "value" in r]
    assert [datetime.fromisoformat(r["source_timestamp"]) for r in samples] == [
        T0 + timedelta(hours=h) for h in range(10, 16)
    ]
    assert [r["value"] for r in samples] == [1000.0 + 2.5 * h for h in range(10, 16)]
    assert opcua.history.reads > reads_before  # served from the callable, not a server copy
    limited = await probe(opcua.url, "history", node_id, start.isoformat(), end.isoformat(), "2")
    assert [r["value"] for r in limited if "value" in r] == [1025.0, 1027.5]


async def test_anonymous_write_is_refused_user_write_allowed(opcua: Running) -> None:
    setpoint, energy = nid(opcua, "setpoint"), nid(opcua, "active-energy")
    assert (await probe(opcua.url, "write", setpoint, "21.5"))[-1]["status"] == "BadUserAccessDenied"
    user, password = next(iter(USERS.items()))
    as_user = await probe(opcua.url, "write", setpoint, "21.5", user=user, password=password)
    assert as_user[-1]["status"] == "Good"
    read_only = await probe(opcua.url, "write", energy, "1.0", user=user, password=password)
    assert read_only[-1]["status"] == "BadUserAccessDenied"  # AccessLevel has no CurrentWrite


async def test_wrong_password_is_refused(opcua: Running) -> None:
    rows = await probe(opcua.url, "read", nid(opcua, "active-energy"), user="operator", password="wrong")
    assert rows == [{"event": "connect-failed", "error": "BadUserAccessDenied"}]
    rows = await probe(opcua.url, "read", nid(opcua, "active-energy"), user="nobody", password="x")
    assert rows[0]["event"] == "connect-failed"
