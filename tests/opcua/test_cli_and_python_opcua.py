"""The server seen by asyncua's CLI tools and by python-opcua, each run as a separate process."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from bms_bridge.exposure.points import PointStatus, PointValue
from tests.opcua.conftest import BIN, CLIENTS, Running, client_process, json_lines, read_line_until, run_client

pytestmark = pytest.mark.asyncio(loop_scope="package")
MEASURED = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


async def test_uals_lists_meter_points_and_namespace_zero_properties(opcua: Running) -> None:
    rc, lines = await run_client(BIN / "uals", "-u", opcua.url, "-n", "ns=2;s=SiteA/B-A/IT-Co/M-A3-01", "-l", "0")
    assert rc == 0
    listing = "\n".join(lines)
    for point_id in ("active-energy", "active-power", "setpoint"):
        assert opcua.server.node_id(point_id) in listing
    rc, lines = await run_client(BIN / "uals", "-u", opcua.url, "-n", opcua.server.node_id("active-power"), "-l")
    listing = "\n".join(lines)
    assert "0:EURange" in listing and "Range(Low=0.0, High=250.0)" in listing
    assert "0:EngineeringUnits" in listing and "UnitId=4937556" in listing


async def test_uaread_value_units_and_status(opcua: Running) -> None:
    await opcua.server.update(PointValue("water-volume", 321.125, MEASURED))
    node_id = opcua.server.node_id("water-volume")
    rc, lines = await run_client(BIN / "uaread", "-u", opcua.url, "-n", node_id)
    assert (rc, lines[-1]) == (0, "321.125")
    rc, lines = await run_client(BIN / "uaread", "-u", opcua.url, "-n", node_id, "-p", "0:EngineeringUnits")
    assert "UnitId=5067857" in lines[-1]  # MTQ, cubic metre
    assert "http://www.opcfoundation.org/UA/units/un/cefact" in lines[-1]
    # uaread refuses non-Good values and names the StatusCode it got.
    await opcua.server.update(PointValue("stale-power", 5.0, MEASURED, PointStatus.STALE))
    rc, lines = await run_client(BIN / "uaread", "-u", opcua.url, "-n", opcua.server.node_id("stale-power"))
    assert rc == 1 and "(UncertainLastUsableValue)" in "\n".join(lines)


async def test_uahistoryread_reads_a_range(opcua: Running) -> None:
    node_id = opcua.server.node_id("active-energy")
    rc, lines = await run_client(
        BIN / "uahistoryread", "-u", opcua.url, "-n", node_id,
        "--starttime", "2026-03-01 10:00", "--endtime", "2026-03-01 12:00", "-l", "0",
    )  # fmt: skip
    assert rc == 0
    rows = [line.split() for line in lines if line.startswith("2026-03-01")]
    assert [(row[1], row[2], row[3]) for row in rows] == [
        ("10:00:00+00:00", "Good", "1025.0"),
        ("11:00:00+00:00", "Good", "1027.5"),
        ("12:00:00+00:00", "Good", "1030.0"),
    ]


async def test_uasubscribe_prints_the_update(opcua: Running) -> None:
    node_id = opcua.server.node_id("active-energy")
    async with client_process(BIN / "uasubscribe", "-u", opcua.url, "-n", node_id) as process:
        await read_line_until(process, "Type Ctr-C to exit")  # printed once the monitored item exists
        await opcua.server.update(PointValue("active-energy", 4321.75, MEASURED))
        await read_line_until(process, "4321.75")


async def test_python_opcua_reads_values_statuses_and_is_refused_writes(opcua: Running) -> None:
    server = opcua.server
    await server.update(PointValue("active-power", 17.5, MEASURED))
    await server.update(PointValue("offline-energy", 900.0, MEASURED, PointStatus.COMM_FAILURE))
    ids = [server.node_id(p) for p in ("active-power", "offline-energy", "retired")]
    rc, lines = await run_client(sys.executable, CLIENTS / "python_opcua_probe.py", opcua.url, *ids)
    assert rc == 0, lines
    power, offline, retired, write = json_lines(lines)
    assert (power["value"], power["status"], power["unit_id"], power["unit"]) == (17.5, "Good", 4937556, "kW")
    assert datetime.fromisoformat(power["source_timestamp"]) == MEASURED
    assert (offline["value"], offline["status"]) == (900.0, "UncertainNoCommunicationLastUsableValue")
    assert (retired["value"], retired["status"]) == (None, "BadOutOfService")
    assert write == {"event": "write", "status": "BadUserAccessDenied"}  # anonymous
