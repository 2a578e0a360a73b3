"""A copy of the minimal test site and an SQLite store for the consumption pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.sites import open_site
from metering.readings import Reading
from metering.store import Store
from point_mapping.loader import LoadedSite

QUARTER = timedelta(minutes=15)


@pytest.fixture
def site(site_dir: Path) -> LoadedSite:
    return open_site(site_dir)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'store.db'}"


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    async with Store.open(db_url) as opened:
        yield opened


def series(point_id: str, start: datetime, values: Iterable[float], step: timedelta = QUARTER) -> list[Reading]:
    """Readings of one point at start, start + step, ... with the given stored values."""
    return [Reading(point_id, start + i * step, float(v)) for i, v in enumerate(values)]
