"""`bms-bridge verify`: recompute intervals from raw readings and report stored ones that differ."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.cli import main
from bms_bridge.sites import open_site
from metering.consumption import refresh_dirty
from metering.readings import Interval, Reading
from metering.store import ConsumptionStore, Store

T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


async def _fill(site_dir: Path, url: str, *, tamper: bool) -> None:
    site = open_site(site_dir)
    async with Store.open(url) as store:
        await store.insert_readings([Reading("a1-01.energy", T0 + QUARTER * i, 100.0 + i) for i in range(9)])
        await refresh_dirty(site, ConsumptionStore(store))
        if tamper:  # a stored interval that no longer matches its readings
            await store.upsert_intervals([Interval("a1-01.energy", T0 + QUARTER, 7.0)])


def test_verify_reports_nothing_when_intervals_match(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    asyncio.run(_fill(site_dir, url, tamper=False))
    assert main(["--db", url, "verify", str(site_dir)]) == 0
    assert "0 stored interval(s) differ" in capsys.readouterr().out


def test_verify_lists_a_differing_interval_and_fails(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    asyncio.run(_fill(site_dir, url, tamper=True))
    assert main(["--db", url, "verify", str(site_dir), "--from", "2026-01-05", "--to", "2026-01-05", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["differences"] == [
        {
            "point": "a1-01.energy",
            "start": (T0 + QUARTER).isoformat(),
            "stored": {"value": 7.0, "quality": "measured"},
            "recomputed": {"value": 1.0, "quality": "measured"},
            "frozen": False,
        }
    ]


def test_verify_refuses_a_bad_range(site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert main(["--db", url, "verify", str(site_dir), "--from", "2026-02-01", "--to", "2026-01-01"]) == 1
    assert "before" in capsys.readouterr().err
