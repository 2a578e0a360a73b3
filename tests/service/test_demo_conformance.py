"""The running demo seen by the independent clients: Trend Logs from the store over BACnet (bac-py),
virtual points in their building, per-source staleness and the published facets over OPC UA (python-opcua)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings
from bms_bridge.exposure.points import PointStatus
from bms_bridge.service import Service, ServiceOptions
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site
from tests.bacnet.test_conformance_bacpy import run_bacpy
from tests.opcua.conftest import CLIENTS, json_lines, run_client
from tests.service.demo_copy import demo_copy
from tests.service.test_demo_service import wait_for

POINT = "el.A-main"


async def test_demo_serves_trend_logs_virtual_points_and_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_LPWAN_SECRET", "test-secret")
    site = open_site(demo_copy(tmp_path / "demo"))
    options = ServiceOptions(simulate=True, simulation_model=LoadModel(site.model))
    service = Service(site, f"sqlite:///{tmp_path / 'demo.db'}", options)
    async with service.running():
        store, feed = service.store, service.feed
        assert store is not None and feed is not None

        async def two_readings() -> bool:
            return await store.reading_count(POINT) >= 2

        await wait_for(two_readings, 90, f"two stored readings of {POINT}")

        async def lpwan_fresh() -> bool:
            value = feed.value_of("hw.B0-fit")
            return value is not None and value.status is PointStatus.OK

        await wait_for(lpwan_fresh, 30, "a fresh value of the LPWAN hot water meter")

        bacnet = site.model.exposure.bacnet
        assert bacnet is not None
        settings = BacnetDeviceSettings(device_instance=bacnet.device_instance, device_name="x", address=bacnet.address)
        instance = site.identifiers.bacnet_instance[POINT]
        count = await store.reading_count(POINT)
        [last] = await store.readings_page(POINT, count - 1, 1)
        results = await run_bacpy(
            settings,
            [
                {"op": "read", "object": f"trend-log,{instance}", "property": "object-name"},
                {
                    "op": "read-range",
                    "object": f"trend-log,{instance}",
                    "by": "position",
                    "reference": count,
                    "count": -1,
                },
            ],
            tmp_path,
        )
        name, newest = results
        assert name["value"].endswith(f".{POINT}.log")
        [record] = newest["records"]
        assert record["value"] == pytest.approx(last.value, rel=1e-6)  # a REAL: 24-bit mantissa
        assert newest["result_flags"]["last_item"] is True

        endpoint = site.model.exposure.opcua.endpoint  # type: ignore[union-attr]
        steps = [{"op": "variable", "node": "ns=2;s=el.A-common"}, {"op": "server-profiles"}]
        rc, lines = await run_client(sys.executable, CLIENTS / "python_opcua_inspect.py", endpoint, json.dumps(steps))
        assert rc == 0, lines
        common, profiles = json_lines(lines)
    assert common["parents"][1:] == ["Building A (Lindenallee 10)", "Common areas", "Virtual"]
    assert (common["historizing"], common["history_read"]) == (True, True)
    assert "http://opcfoundation.org/UA-Profile/Server/HistoricalRawData" in profiles["profiles"]
