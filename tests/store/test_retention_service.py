"""The running service applies `storage.raw_readings_days` on its own timer (`storage.retention_check`)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bms_bridge.service import Service, ServiceOptions
from bms_bridge.sites import open_site
from metering.readings import Reading
from metering.store import Store
from metering.store.consumption_store import ConsumptionStore
from tests.support.services import free_tcp_port

JAN, FEB = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)  # the moved clock: January is five months old


async def test_the_service_prunes_old_readings_of_closed_months_on_its_timer(site_dir: Path, tmp_path: Path) -> None:
    devices = site_dir / "devices.yaml"  # nothing listens there: the meters are dead, the store is what counts
    text = devices.read_text().replace("15020", str(free_tcp_port())).replace("15022", str(free_tcp_port()))
    devices.write_text(text)
    (site_dir / "storage.yaml").write_text("storage: {raw_readings_days: 90, retention_check: 50ms}\n")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    hourly = [Reading("main.energy", JAN + timedelta(hours=h), 1000.0 + h) for h in range(31 * 24 + 24)]
    async with Store.open(url) as store:
        await store.insert_readings(hourly)  # January (744) and February 1st (24)
        repo = ConsumptionStore(store)
        await repo.take_dirty()
        await repo.freeze_period("2026-01", JAN, FEB)
    service = Service(open_site(site_dir), url, ServiceOptions(clock=lambda: NOW))
    async with service.running():
        assert service.store is not None
        deadline = time.monotonic() + 20
        left = len(hourly)
        while left != 2 + 24 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            left = await service.store.reading_count("main.energy")
        kept = await service.store.readings("main.energy", JAN, FEB + timedelta(days=1))
    # January down to its first and last reading; February (open) whole
    assert [r.ts for r in kept[:3]] == [JAN, FEB - timedelta(hours=1), FEB]
    assert len(kept) == 2 + 24
