"""`backup` copies a live SQLite store consistently; `restore` puts it back, checked, and it verifies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.cli import main
from bms_bridge.sites import open_site
from metering.consumption import refresh_dirty
from metering.readings import Reading
from metering.store import ConsumptionStore, Store

T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
POINT = "a1-01.energy"


async def _write(site_dir: Path, url: str, first: int, count: int) -> None:
    site = open_site(site_dir)
    async with Store.open(url) as store:
        await store.insert_readings([Reading(POINT, T0 + QUARTER * i, 100.0 + i) for i in range(first, first + count)])
        await refresh_dirty(site, ConsumptionStore(store))


async def _stored(url: str) -> list[float]:
    async with Store.open(url) as store:
        return [r.value for r in await store.readings(POINT, T0, T0 + timedelta(days=1))]


def test_backup_while_open_then_restore_gives_the_backed_up_data(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    backup = tmp_path / "backups" / "site.db"
    asyncio.run(_write(site_dir, url, 0, 9))

    async def backup_while_a_writer_holds_the_store() -> int:
        async with Store.open(url) as store:  # the running service's connection stays open meanwhile
            await store.insert_readings([Reading(POINT, T0 + QUARTER * 9, 109.0)])
            return await asyncio.to_thread(main, ["--db", url, "backup", str(site_dir), "--out", str(backup)])

    assert asyncio.run(backup_while_a_writer_holds_the_store()) == 0
    assert "integrity checked" in capsys.readouterr().out
    asyncio.run(_write(site_dir, url, 10, 5))  # life goes on after the backup
    assert len(asyncio.run(_stored(url))) == 15

    assert main(["--db", url, "restore", str(site_dir), "--from", str(backup)]) == 0
    assert asyncio.run(_stored(url)) == [100.0 + i for i in range(10)]
    capsys.readouterr()
    assert main(["--db", url, "verify", str(site_dir)]) == 1  # reading 9 came after the last refresh...
    assert "not yet recomputed" in capsys.readouterr().out  # ...and is named as pending, not lost


def test_restore_refuses_a_file_that_is_not_a_backup(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    asyncio.run(_write(site_dir, url, 0, 3))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite" * 100)
    assert main(["--db", url, "restore", str(site_dir), "--from", str(junk)]) == 1
    assert "is not a bms-bridge database" in capsys.readouterr().err
    assert asyncio.run(_stored(url)) == [100.0, 101.0, 102.0]  # the live store is untouched


def test_backup_of_postgresql_points_to_its_tools(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", "postgresql://127.0.0.1/test", "backup", str(site_dir), "--out", "x.db"]) == 1
    assert "pg_dump" in capsys.readouterr().err
