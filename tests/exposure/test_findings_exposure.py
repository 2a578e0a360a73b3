"""Findings exposed to the BMS: a Binary Value per rule and subject, active while open, and what it wasted so
far as analog values; read by bac-py and python-opcua clients, each in a process of its own."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.commands.demo import DEMO_SITE
from bms_bridge.exposure.findings import FindingsExposure, flag_id, waste_id
from bms_bridge.exposure.points import ExposedPoint
from bms_bridge.opcua import OpcUaServer, OpcUaSettings
from bms_bridge.sites import open_site
from metering.store import Event
from tests.bacnet.test_conformance_bacpy import run_bacpy
from tests.opcua.conftest import CLIENTS, json_lines, run_client
from tests.support.services import free_tcp_port, free_udp_port

NOW = datetime(2025, 10, 9, 12, tzinfo=UTC)
SHC = "hvac.simultaneous_heating_cooling"
LEAK = "anomaly.night_flow"
VENT = "hvac.ventilation_unoccupied"


def shc(ended: datetime | None = None) -> Event:
    parts = [
        {"resource": "cooling", "energy": 3.25, "unit": "kWh", "cost": "0.28", "currency": "EUR"},
        {"resource": "electricity", "energy": 0.5, "unit": "kWh", "cost": "0.16", "currency": "EUR"},
        {"resource": "heat", "energy": 12.5, "unit": "kWh", "cost": "1.78", "currency": "EUR"},
    ]
    return Event(
        kind=SHC, subject="ahu-a", severity="warning", started_at=datetime(2025, 10, 9, 5, tzinfo=UTC),
        title="ahu-a heats and cools at once", dedup_key=f"{SHC}:ahu-a:2025-10-09T05:00:00+00:00",
        ended_at=ended, details={"waste": parts}, cost_exact=None, equipment="ahu-a", zone="A", id=1,
    )  # fmt: skip


LEAK_EVENT = Event(
    kind=LEAK, subject="cw.B2-wc", severity="warning", started_at=datetime(2025, 10, 1, 22, tzinfo=UTC),
    title="cw.B2-wc flows every night", dedup_key=f"{LEAK}:cw.B2-wc:2025-10-02", energy=0.96, energy_unit="m3",
    id=2,
)  # fmt: skip
VENT_CLOSED = Event(
    kind=VENT, subject="ahu-b", severity="warning", started_at=datetime(2025, 10, 4, 6, tzinfo=UTC),
    title="ahu-b ventilates while unoccupied", dedup_key=f"{VENT}:ahu-b:2025-10-04",
    ended_at=datetime(2025, 10, 4, 12, tzinfo=UTC), equipment="ahu-b", id=3,
)  # fmt: skip


def _site(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_SITE, folder, ignore=shutil.ignore_patterns(".state"))
    return folder


async def _bacnet_and_opcua(exposure: FindingsExposure, stack: Any) -> tuple[BacnetDeviceSettings, OpcUaServer, str]:
    settings = BacnetDeviceSettings(
        device_instance=4190001, device_name="findings-test", address=f"127.0.0.1/8:{free_udp_port()}"
    )
    bacnet = await stack.enter_async_context(BacnetServer(settings))
    url = f"opc.tcp://127.0.0.1:{free_tcp_port()}"
    opcua = await stack.enter_async_context(OpcUaServer(OpcUaSettings(endpoint=url), []))

    async def add(points: list[ExposedPoint]) -> None:
        bacnet.add_points(points)

    async def update(values: Any) -> None:
        bacnet.update_many(values)

    exposure.add_target(add, update)
    exposure.add_target(opcua.add_points, opcua.update_many)
    return settings, opcua, url


async def test_open_findings_are_active_binary_values_with_their_waste_per_resource(tmp_path: Path) -> None:
    import contextlib

    folder = _site(tmp_path)
    site = open_site(folder)
    highest_point = max([*site.identifiers.lock.bacnet.values(), *site.identifiers.lock.retired.values()])
    exposure = FindingsExposure(site, lambda: NOW)
    async with contextlib.AsyncExitStack() as stack:
        settings, opcua, url = await _bacnet_and_opcua(exposure, stack)
        await exposure.refresh([shc(), LEAK_EVENT, VENT_CLOSED])
        number = {p.point_id: p.bacnet_instance for p in exposure.points}
        shc_flag, vent_flag, leak_flag = flag_id(SHC, "ahu-a"), flag_id(VENT, "ahu-b"), flag_id(LEAK, "cw.B2-wc")
        heat, cooling = waste_id(SHC, "ahu-a", "heat"), waste_id(SHC, "ahu-a", "cooling")
        litres = waste_id(LEAK, "cw.B2-wc", "water")
        assert shc_flag == "finding.hvac.simultaneous_heating_cooling.ahu-a"
        # 3 flags + heat, cooling, electricity of the AHU + the leak's litres; numbers above every point's
        assert len(number) == 7 and min(number.values()) == highest_point + 1
        assert sorted(number.values()) == list(range(highest_point + 1, highest_point + 8))

        def bv(pid: str) -> str:
            return f"binary-value,{number[pid]}"

        def av(pid: str) -> str:
            return f"analog-value,{number[pid]}"

        steps = [
            {"op": "read", "object": bv(shc_flag), "property": "present-value"},
            {"op": "read", "object": bv(vent_flag), "property": "present-value"},
            {"op": "read", "object": bv(leak_flag), "property": "present-value"},
            {"op": "read", "object": av(heat), "property": "present-value"},
            {"op": "read", "object": av(cooling), "property": "present-value"},
            {"op": "read", "object": av(litres), "property": "present-value"},
            {"op": "read", "object": av(litres), "property": "units"},
            {"op": "read", "object": bv(shc_flag), "property": "object-name"},
        ]
        results = [r["value"] for r in await run_bacpy(settings, steps, tmp_path)]
        # BinaryPV 1 active, 0 inactive; 0.96 m3 lost = 960 L (BACnet units 82: liters)
        assert results == [1, 0, 1, 12.5, 3.25, 960.0, 82, "Findings.hvac.simultaneous_heating_cooling.ahu-a"]

        ids = [opcua.node_id(p) for p in (shc_flag, heat, litres)]
        rc, lines = await run_client(sys.executable, CLIENTS / "python_opcua_probe.py", url, *ids)
        assert rc == 0, lines
        flag_ua, heat_ua, litres_ua, _write = json_lines(lines)
        assert (flag_ua["value"], flag_ua["status"]) == (1.0, "Good")
        assert (heat_ua["value"], heat_ua["unit"]) == (12.5, "kWh")
        assert (litres_ua["value"], litres_ua["unit"]) == (960.0, "L")

        # the AHU stops fighting: its flag drops, its waste shows 0 (nothing is being wasted now)
        changed = await exposure.refresh([shc(ended=NOW), LEAK_EVENT, VENT_CLOSED])
        assert {v.point_id: v.value for v in changed} == {
            shc_flag: 0.0, heat: 0.0, cooling: 0.0, waste_id(SHC, "ahu-a", "electricity"): 0.0
        }  # fmt: skip
        after = await run_bacpy(
            settings,
            [
                {"op": "read", "object": bv(shc_flag), "property": "present-value"},
                {"op": "read", "object": av(heat), "property": "present-value"},
                {"op": "read", "object": bv(leak_flag), "property": "present-value"},
            ],
            tmp_path,
        )
        assert [r["value"] for r in after] == [0, 0.0, 1]
        assert await exposure.refresh([shc(ended=NOW), LEAK_EVENT, VENT_CLOSED]) == []  # nothing changed

    # the numbers are in the lock file: a restarted service gives every object the same instance
    lock = yaml.safe_load((folder / "identifiers.lock.yaml").read_text())
    assert lock["finding_instances"] == number
    again = FindingsExposure(open_site(folder), lambda: NOW)
    await again.refresh([LEAK_EVENT, shc(), VENT_CLOSED])
    assert {p.point_id: p.bacnet_instance for p in again.points} == number
    # a new finding gets a new number; the points' own numbers are untouched
    await again.refresh([replace(VENT_CLOSED, kind=SHC, subject="ahu-b", dedup_key="x", id=4)])
    assert again.lock.findings[flag_id(SHC, "ahu-b")] == highest_point + 8
    assert open_site(folder).identifiers.bacnet_instance == site.identifiers.bacnet_instance
