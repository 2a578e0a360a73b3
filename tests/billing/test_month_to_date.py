"""Tenants' month so far back to the BMS: BACnet objects and OPC UA nodes beside the meter points, read
by clients in processes of their own (bac-py, asyncua's uaread).

Golden case `billing_move_out` (1 kW all June 2025 on office 2, 0.20 EUR/kWh, standing charge 30.00
a month): the service's fake clock says 20 June 12:00 Berlin. Alpha (C1) moved out on 15 June 12:00:
14.5 days x 24 kWh = 348 kWh, cost so far 69.60 (fees are not in it). Beta (C2) moved in then: 5 days
= 120 kWh, 24.00 EUR.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from billing_export.month_to_date import month_to_date
from billing_export.source import StoreIntervalSource
from bms_bridge.billing.results import MonthToDateResults
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.points import PointValue
from bms_bridge.exposure.settings import bacnet_settings
from bms_bridge.service import Service, ServiceOptions
from bms_bridge.sites import open_site
from metering.store import ConsumptionStore, Store
from point_mapping.identifiers import LOCK_FILE, write_lock
from tests.bacnet.test_conformance_bacpy import run_bacpy
from tests.billing.golden import build_site, load_into
from tests.billing.outbox_support import FakeClock
from tests.opcua.conftest import BIN, run_client
from tests.support.services import free_tcp_port, free_udp_port

pytestmark = pytest.mark.slow

CASE = Path(__file__).parent.parent / "fixtures" / "billing_move_out"
NOW = datetime(2025, 6, 20, 10, 0, tzinfo=UTC)  # 12:00 CEST
IDS = ["mtd.C1.cost", "mtd.C1.electricity.flat", "mtd.C2.cost", "mtd.C2.electricity.flat"]


async def make_site(tmp_path: Path) -> tuple[Path, str]:
    site_dir = build_site(CASE, tmp_path)
    site_yaml = site_dir / "site.yaml"
    text = site_yaml.read_text().replace("port: 15022", f"port: {free_tcp_port()}")  # meters dead
    text += f"""
exposure:
  month_to_date: true
  bacnet:
    device_instance: 4190
    device_name: golden bridge
    address: 127.0.0.1/8:{free_udp_port()}
  opcua:
    endpoint: opc.tcp://127.0.0.1:{free_tcp_port()}
    namespace: urn:bms-bridge:golden
"""
    site_yaml.write_text(text)
    url = f"sqlite:///{tmp_path / 'state.db'}"

    async with Store.open(url) as store:
        await load_into(store, json.loads((CASE / "input.json").read_text()), open_site(site_dir).model.site.zone)
        await ConsumptionStore(store).take_dirty()
    return site_dir, url


async def test_the_core_prices_the_month_so_far(tmp_path: Path) -> None:
    site_dir, url = await make_site(tmp_path)
    async with Store.open(url) as store:
        values = await month_to_date(open_site(site_dir).model, NOW, StoreIntervalSource(store))
    assert values == {
        "mtd.C1.electricity.flat": Decimal("348.000"),
        "mtd.C1.cost": Decimal("69.60"),
        "mtd.C2.electricity.flat": Decimal("120.000"),
        "mtd.C2.cost": Decimal("24.00"),
    }


def test_the_instances_are_locked_and_survive_a_new_contract(tmp_path: Path) -> None:
    site_dir, _ = asyncio.run(make_site(tmp_path))
    site = open_site(site_dir)
    write_lock(site.folder, site.identifiers)
    locked = yaml.safe_load((site_dir / LOCK_FILE).read_text())["bacnet_instances"]
    first = {i: locked[i] for i in IDS}
    assert len(set(first.values()) | {locked[p.id] for p in site.model.points}) == len(IDS) + len(site.model.points)
    # a contract written before the others in YAML: the existing numbers stay, the new ones come after
    tenants = site_dir / "tenants.yaml"
    tenants.write_text(
        tenants.read_text().replace(
            "contracts:\n",
            "contracts:\n  - {id: C0, tenant: T1, start: 2025-07-01, spaces: [A1-01], points: [{point: a1-01.energy}],"
            " tariffs: {electricity: el}}\n",
        )
    )
    again = open_site(site_dir)
    assert {i: again.identifiers.bacnet_instance[i] for i in IDS} == first
    assert again.identifiers.bacnet_instance["mtd.C0.cost"] > max(locked.values())


async def test_bacnet_and_opcua_clients_read_the_month_so_far(tmp_path: Path) -> None:
    site_dir, url = await make_site(tmp_path)
    site = open_site(site_dir)
    instances = {i: site.identifiers.bacnet_instance[i] for i in IDS}
    model = site.model
    assert model.exposure.bacnet is not None and model.exposure.opcua is not None
    async with Service(site, url, ServiceOptions(clock=FakeClock(NOW))).running() as service:
        assert service.feed is not None
        for _ in range(500):
            if all(service.feed.value_of(i) is not None for i in IDS):
                break
            await asyncio.sleep(0.02)
        settings = bacnet_settings(model.exposure.bacnet, model.site.name)
        steps = [
            {"op": "read", "object": f"large-analog-value,{instances[i]}", "property": prop}
            for i in IDS
            for prop in ("present-value", "object-name", "units")
        ]
        results = await run_bacpy(settings, steps, tmp_path)
        got = [r["value"] for r in results]
        assert got[0::3] == [69.6, 348.0, 24.0, 120.0]
        assert got[1::3] == [
            "Alpha GmbH.Month to date.C1.cost",
            "Alpha GmbH.Month to date.C1.electricity.flat",
            "Beta AG.Month to date.C2.cost",
            "Beta AG.Month to date.C2.electricity.flat",
        ]
        assert got[2::3] == [95, 19, 95, 19]  # clause 21: no-units, kilowatt-hours

        endpoint = model.exposure.opcua.endpoint
        for point_id, expected in (("mtd.C2.electricity.flat", "120.0"), ("mtd.C2.cost", "24.0")):
            rc, lines = await run_client(BIN / "uaread", "-u", endpoint, "-n", f"ns=2;s={point_id}")
            assert (rc, lines[-1]) == (0, expected)


async def test_a_refresh_later_in_the_month_pushes_the_new_values(tmp_path: Path) -> None:
    # the service's periodic task calls `refresh`; here the clock moves from the 20th to the 25th 12:00:
    # Beta (C2) has 10 days = 240 kWh, 48.00 EUR; Alpha (C1) stays at its 348 kWh, 69.60 EUR
    site_dir, url = await make_site(tmp_path)
    site = open_site(site_dir)
    clock = FakeClock(NOW)
    results = MonthToDateResults(site, clock)
    pushed: list[PointValue] = []

    async def sink(values: list[PointValue]) -> None:
        pushed.extend(values)

    feed = ExposureFeed(results.points, {}, None, clock, sinks=[sink])
    async with Store.open(url) as store:
        assert await results.refresh(store, feed) == 4
        clock.move_to(NOW.replace(day=25))
        assert await results.refresh(store, feed) == 4
    later = {v.point_id: (v.value, v.timestamp) for v in pushed[4:]}
    assert later == {
        "mtd.C1.cost": (69.6, NOW.replace(day=25)),
        "mtd.C1.electricity.flat": (348.0, NOW.replace(day=25)),
        "mtd.C2.cost": (48.0, NOW.replace(day=25)),
        "mtd.C2.electricity.flat": (240.0, NOW.replace(day=25)),
    }
