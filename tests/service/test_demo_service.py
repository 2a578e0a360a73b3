"""The whole service on a copy of the demo site: simulated meters → pollers → store → BACnet/OPC UA.

Each protocol adapter has its own suite with independent clients; this checks the wiring end to end
with asyncua's `uaread` CLI and the `bms-bridge poll` command as separate processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.exposure.points import PointStatus
from bms_bridge.service import Service, ServiceOptions
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site
from tests.service.demo_copy import demo_copy
from tests.support.services import free_udp_port

BIN = Path(sys.executable).parent
POINT = "el.A-main"  # Building A main incomer, an iEM3155 on Modbus TCP


async def run_tool(*argv: str, limit: float = 30.0) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ}
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, out.decode(), err.decode()


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


async def test_demo_site_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_LPWAN_SECRET", "test-secret")
    site = open_site(demo_copy(tmp_path / "demo"))
    model = LoadModel(site.model)
    # status (and finding objects) refreshed every 2 s instead of 30 s, so the test need not wait long
    options = ServiceOptions(simulate=True, simulation_model=model, status_refresh=timedelta(seconds=2))
    service = Service(site, f"sqlite:///{tmp_path / 'demo.db'}", options)
    async with service.running():
        store, feed = service.store, service.feed
        assert store is not None and feed is not None

        async def stored() -> bool:
            return await store.last_reading(POINT) is not None

        await wait_for(stored, 60, f"a stored reading of {POINT}")
        reading = await store.last_reading(POINT)
        assert reading is not None
        expected = model.cumulative(POINT, reading.ts)
        assert reading.value == pytest.approx(expected, rel=1e-6)  # what the simulated meter served

        # the simulated network server posts the wireless meters' uplinks to the HMAC-signed webhook
        async def wireless() -> bool:
            return await store.last_reading("hw.B0-fit") is not None

        await wait_for(wireless, 30, "a reading of the LPWAN hot water meter")
        uplinked = await store.last_reading("hw.B0-fit")
        assert uplinked is not None and uplinked.source == "lpwan:70b3d57ed0050001"
        assert uplinked.value == pytest.approx(model.cumulative("hw.B0-fit", uplinked.ts), abs=0.001)

        # a virtual total (building A main − every tenant breaker) is live for the BMS too
        async def common_live() -> bool:
            common = feed.value_of("el.A-common")
            return common is not None and common.status is PointStatus.OK

        await wait_for(common_live, 30, "a live value of the virtual point el.A-common")

        value = feed.value_of(POINT)
        assert value is not None and value.status is PointStatus.OK

        # an independent OPC UA client process reads the same value
        endpoint = site.model.exposure.opcua.endpoint  # type: ignore[union-attr]
        code, out, err = await run_tool(
            str(BIN / "uaread"), "-u", endpoint, "-n", f"ns=2;s={POINT}", "--timeout", "10", limit=40
        )
        assert code == 0, err
        served = float(out.strip().splitlines()[-1])
        assert served >= reading.value - 1e-6  # a later poll may have raised it since

        # an independent bacpypes3 client process reads the meter's BACnet object
        bacnet = site.model.exposure.bacnet
        assert bacnet is not None
        obj = f"large-analog-value,{site.identifiers.bacnet_instance[POINT]}"
        steps = [{"op": "read", "object": obj, "property": p} for p in ("present-value", "units", "status-flags")]
        code, out, err = await run_tool(
            sys.executable,
            str(Path(__file__).parents[1] / "bacnet" / "clients" / "bacpypes3_client.py"),
            "--local",
            f"127.0.0.1/8:{free_udp_port()}",
            "--server",
            f"127.0.0.1:{bacnet.address.rsplit(':', 1)[1]}",
            json.dumps(steps),
            limit=40,
        )
        assert code == 0, err
        answers = {r["property"]: r["value"] for r in map(json.loads, out.splitlines()) if r.get("op") == "read"}
        assert answers["present-value"] >= reading.value - 1e-6
        assert answers["units"] == "kilowatt-hours"
        assert answers["status-flags"] == [0, 0, 0, 0]  # in-alarm, fault, overridden, out-of-service

        # a stored finding becomes a BACnet Binary Value (active while open) with its waste per resource
        from bms_bridge.exposure.findings import flag_id, waste_id
        from metering.store import Event

        await store.add_event(
            Event(kind="anomaly.night_flow", subject="cw.B2-wc", severity="warning", title="night flow",
                  started_at=datetime(2025, 10, 2, tzinfo=UTC), dedup_key="test-leak", energy=0.03, energy_unit="m3")
        )  # fmt: skip
        findings = service.findings
        assert findings is not None

        async def exposed() -> bool:
            return any(p.point_id == flag_id("anomaly.night_flow", "cw.B2-wc") for p in findings.points)

        await wait_for(exposed, 30, "the finding's BACnet object")
        number = {p.point_id: p.bacnet_instance for p in findings.points}
        flag = number[flag_id("anomaly.night_flow", "cw.B2-wc")]
        litres = number[waste_id("anomaly.night_flow", "cw.B2-wc", "water")]
        steps = [
            {"op": "read", "object": f"binary-value,{flag}", "property": "present-value"},
            {"op": "read", "object": f"analog-value,{litres}", "property": "present-value"},
        ]
        code, out, err = await run_tool(
            sys.executable,
            str(Path(__file__).parents[1] / "bacnet" / "clients" / "bacpypes3_client.py"),
            "--local",
            f"127.0.0.1/8:{free_udp_port()}",
            "--server",
            f"127.0.0.1:{bacnet.address.rsplit(':', 1)[1]}",
            json.dumps(steps),
            limit=40,
        )
        assert code == 0, err
        reads = [r["value"] for r in map(json.loads, out.splitlines()) if r.get("op") == "read"]
        assert reads == ["active", 30.0]  # 0.03 m3 lost = 30 L

        # `bms-bridge poll --once --json` in its own process reads the simulated meters too
        code, out, err = await run_tool(str(BIN / "bms-bridge"), "poll", str(site.folder), "--once", "--json", limit=60)
        assert code == 0, err
        polled = json.loads(out)
        row = next(r for r in polled["readings"] if r["point"] == POINT)
        assert row["meter"] == "A.main" and row["unit"] == "kWh"
        assert row["value"] == pytest.approx(model.cumulative(POINT, datetime.fromisoformat(row["ts"])), rel=1e-6)
        assert polled["errors"] == {}
    assert datetime.now(UTC) > reading.ts

    # stopping computed the last readings' intervals: the stopped site verifies clean, nothing pending
    code, out, err = await run_tool(
        str(BIN / "bms-bridge"), "--db", f"sqlite:///{tmp_path / 'demo.db'}", "verify", str(site.folder), limit=120
    )
    assert code == 0, out + err
    assert "0 stored interval(s) differ" in out and "not yet recomputed" not in out
