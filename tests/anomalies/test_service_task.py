"""The running service judges the stored intervals on its own timer (`anomalies.refresh`)."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime
from pathlib import Path

from bms_bridge.service import Service, ServiceOptions
from metering.readings import Interval
from metering.store import Store
from tests.anomalies.sites import METERS, between, local, series, workday, write_house
from tests.support.services import free_tcp_port

NOW = local(date(2025, 3, 20))


async def test_the_service_finds_a_leak_on_its_timer(tmp_path: Path) -> None:
    # nothing listens on these ports: the meters are dead, the stored intervals are what counts
    meters = METERS.replace("port: 15999", f"port: {free_tcp_port()}").replace(
        "port: 15998", f"port: {free_tcp_port()}"
    )
    site = write_house(tmp_path / "site", anomalies="anomalies: {refresh: 50ms}\n", meters=meters)

    def restroom(at: datetime) -> float:
        use = 0.1 if workday(at) and between(at, 8, 18) else 0.0
        return use + (0.005 if at.date() >= date(2025, 3, 10) and between(at, 0, 4) else 0.0)

    wc = series("cw.H1-wc", local(date(2025, 2, 1)), NOW, restroom)
    main = [Interval("cw.H-main", i.start, i.value) for i in wc]
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    async with Store.open(url) as store:
        await store.upsert_intervals([*wc, *main])
    service = Service(site, url, ServiceOptions(clock=lambda: NOW))
    async with service.running():
        assert service.store is not None
        deadline = time.monotonic() + 20
        found = []
        while not found and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            found = await service.store.open_events(kind_prefix="anomaly.")
    assert [(e.kind, e.subject, e.details["start_night"]) for e in found] == [
        ("anomaly.night_flow", "cw.H1-wc", "2025-03-10")
    ]
