"""The interval refresh while the database fails: skipped at once, never a wait for the database.

Before, the refresh waited for the writer to store everything queued; at stop (the final refresh runs
before the writer closes) that wait never ended while the database stayed down, so the service hung.
The store's insert is replaced by a failing one: a real database cannot be made to fail on cue here
without root (the chattr and tmpfs tests in tests/store do that where they can).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.service import Service
from bms_bridge.sites import open_site
from metering.readings import Reading
from metering.store import ReadingWriter, Store
from metering.store.writer import StoreState
from point_mapping.loader import LoadedSite
from tests.support.waiting import until


@pytest.fixture
def site(site_dir: Path) -> LoadedSite:
    return open_site(site_dir)


async def test_the_refresh_skips_while_the_database_fails_and_catches_up_after(
    site: LoadedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    service = Service(site, url)
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    async with Store.open(url) as store:
        real = store.insert_readings
        down = True

        async def insert(readings: Any, **kwargs: Any) -> int:
            if down:
                raise sqlite3.OperationalError("disk I/O error")
            return await real(readings, **kwargs)

        monkeypatch.setattr(store, "insert_readings", insert)
        async with ReadingWriter(store, journal=tmp_path / "journal", retry_initial=0.01, retry_max=0.05) as writer:
            await writer.put(Reading("main.energy", at, 1000.0))
            await until(lambda: writer.state is StoreState.FAILING, "the writer to see the failure")

            assert await asyncio.wait_for(service._refresh_intervals(writer, store), 2) is False
            with caplog.at_level(logging.WARNING, logger="bms_bridge.service"):
                await asyncio.wait_for(service._final_refresh(writer, store), 2)
            assert "intervals not recomputed at stop: the database is failing" in caplog.text

            down = False
            await until(lambda: writer.state is StoreState.OK, "the writer to store the buffered reading")
            assert await asyncio.wait_for(service._refresh_intervals(writer, store), 10) is True
        assert [r.value for r in await store.readings("main.energy", at, at.replace(hour=11))] == [1000.0]
