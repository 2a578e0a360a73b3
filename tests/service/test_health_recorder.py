"""Device health from hundreds of pollers goes to the store through one connection, newest state kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bms_bridge.health_recorder import HealthRecorder
from metering.health import DeviceHealth, after_attempt
from metering.store import Store

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_a_round_of_300_devices_uses_one_connection_and_stores_the_newest(tmp_path: Path) -> None:
    async with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        pool = store.engine.sync_engine.pool
        now = peak = 0

        def checkout(*_: Any) -> None:
            nonlocal now, peak
            now += 1
            peak = max(peak, now)

        def checkin(*_: Any) -> None:
            nonlocal now
            now -= 1

        event.listen(pool, "checkout", checkout)
        event.listen(pool, "checkin", checkin)

        async def poller(recorder: HealthRecorder, n: int) -> None:
            health = DeviceHealth.unknown(f"dev-{n:03d}", T0)
            for cycle in range(3):  # three cycles; the third fails for every tenth device
                await asyncio.sleep(0)
                error = "timeout" if cycle == 2 and n % 10 == 0 else None
                health = after_attempt(health, T0 + timedelta(seconds=60 * cycle), error)
                recorder.record(health)

        async with HealthRecorder(store) as recorder:
            await asyncio.gather(*(poller(recorder, n) for n in range(300)))
        stored = {h.device_id: h for h in await store.device_health()}

    assert peak == 1  # before: one connection per poller reporting at once, the pool's overflow churned
    assert len(stored) == 300 and recorder.saved <= 900
    assert stored["dev-010"].online is False and stored["dev-010"].consecutive_failures == 1
    assert stored["dev-011"].online is True and stored["dev-011"].last_success == T0 + timedelta(seconds=120)
    assert {h.last_attempt for h in stored.values()} == {T0 + timedelta(seconds=120)}
