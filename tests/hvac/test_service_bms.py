"""`run --simulate` on a copy of the demo: the simulated BMS process starts and its trends reach the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_bridge.service import Service, ServiceOptions
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site
from tests.service.demo_copy import demo_copy
from tests.service.test_demo_service import wait_for


async def test_simulated_service_reads_the_bms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_LPWAN_SECRET", "test-secret")
    folder = demo_copy(tmp_path / "demo")
    assert "47809" not in (folder / "bms.yaml").read_text()  # the copy's BMS ports are free ones
    site = open_site(folder)
    options = ServiceOptions(simulate=True, simulation_model=LoadModel(site.model))
    service = Service(site, f"sqlite:///{tmp_path / 'demo.db'}", options)
    async with service.running():
        store = service.store
        assert store is not None

        wanted = {"ahu-a.heating-valve", "ahu-b.fan", "perimeter-a.valve"}

        async def bms_arrived() -> bool:  # a poll stores its points batch by batch: wait for the ones checked
            # device health is saved by the service's health recorder, right after the poll reports it
            stored = {h.device_id for h in await store.device_health()}
            return (
                wanted <= set(await store.trend_points())
                and len(await store.schedules()) == 2
                and ("bms:bms-ahu" in stored)
            )

        await wait_for(bms_arrived, 60, "BMS trends and schedules")
        points = set(await store.trend_points())
        schedules = await store.schedules()
        health = {h.device_id: h for h in await store.device_health()}
    assert wanted <= points
    assert set(schedules) == {"ahu-a.schedule", "ahu-b.schedule"}
    assert health["bms:bms-ahu"].online
