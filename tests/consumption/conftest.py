"""A copy of the minimal test site and an SQLite store for the consumption pipeline."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.sites import open_site
from metering.readings import Reading
from metering.store import Store
from point_mapping.loader import LoadedSite

MINIMAL = Path(__file__).resolve().parent.parent / "point_mapping" / "sites" / "minimal"
QUARTER = timedelta(minutes=15)


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A writable copy of the minimal site: main.energy (M-MAIN, × 40), a1-01/a1-02.energy, common.energy."""
    target = tmp_path / "site"
    shutil.copytree(MINIMAL, target)
    return target


@pytest.fixture
def edit(site_dir: Path) -> Callable[[str, str, str], None]:
    """Replace text in one file of the copied site; fails if the text is not there."""

    def _edit(file: str, old: str, new: str) -> None:
        path = site_dir / file
        text = path.read_text()
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1))

    return _edit


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
