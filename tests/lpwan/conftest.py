"""A site, a SQLite store and an intake with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.lpwan import UplinkIntake
from bms_bridge.lpwan.intake import ReadingSink
from metering.readings import Reading
from metering.store import Store
from point_mapping.loader import LoadedSite

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
END = datetime(2100, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Rig:
    site: LoadedSite
    store: Store
    intake: UplinkIntake
    clock: FakeClock

    async def readings(self, point_id: str) -> list[Reading]:
        return await self.store.readings(point_id, EPOCH, END)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store.open(f"sqlite:///{tmp_path / 'state' / 'store.db'}") as opened:
        yield opened


def make_rig(site: LoadedSite, store: Store, sink: ReadingSink | None = None) -> Rig:
    clock = FakeClock()
    return Rig(site, store, UplinkIntake(site, store, sink, clock=clock), clock)
