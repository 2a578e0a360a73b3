"""A meter exchange recorded by CLI is used by the consumption across the swap."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.cli import main
from metering.readings import Reading
from metering.store import Store

T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


async def _readings(url: str) -> None:
    quarter = timedelta(minutes=15)
    # a1-01.energy (SDM630, multiplier 1): old meter 1000 → 1010, swapped at 11:20, new meter 5 → 15
    values = [1000.0, 1010.0, 8.0, 15.0]
    async with Store.open(url) as store:
        await store.insert_readings(
            [Reading("a1-01.energy", T0 + quarter * i, v, source="test") for i, v in enumerate(values)]
        )


def test_consumption_bridges_a_replacement_recorded_by_cli(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'swap.db'}"
    asyncio.run(_readings(url))
    args = ["--db", url, "replace-meter", str(site_dir), "--meter", "M-A1-01", "--at", "2026-01-05T12:20:00+01:00"]
    assert main([*args, "--old-final", "1012", "--new-initial", "5"]) == 0
    assert "recorded" in capsys.readouterr().out
    assert main([*args, "--old-final", "1012", "--new-initial", "5"]) == 0  # idempotent
    assert "already recorded" in capsys.readouterr().out
    assert main([*args, "--old-final", "1013", "--new-initial", "5"]) == 1  # a different one conflicts
    assert "refusing to overwrite" in capsys.readouterr().err

    period = ["--from", "2026-01-05", "--to", "2026-01-05", "--by", "day", "--json"]
    code = main(["--db", url, "consumption", str(site_dir), "--point", "a1-01.energy", *period])
    assert code == 0
    total = json.loads(capsys.readouterr().out)["total"]
    # 1000→1010 (10) + old 1010→1012 final (2) + new 5→8 (3) + 8→15 (7) = 22, not 15 − 1000
    assert total == pytest.approx(22.0)


def test_bad_input_is_rejected(site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'swap.db'}"
    base = ["--db", url, "replace-meter", str(site_dir), "--old-final", "1", "--new-initial", "0"]
    assert main([*base, "--meter", "NOPE", "--at", "2026-01-05T12:00:00+01:00"]) == 1
    assert "unknown meter 'NOPE'" in capsys.readouterr().err
    assert main([*base, "--meter", "M-A1-01", "--at", "2026-01-05T12:00:00"]) == 1
    assert "UTC offset" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_readings_are_rejected_and_nothing_written(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    db = tmp_path / "swap.db"
    base = ["--db", f"sqlite:///{db}", "replace-meter", str(site_dir), "--meter", "M-A1-01"]
    at = ["--at", "2026-01-05T12:00:00+01:00"]
    assert main([*base, *at, f"--old-final={value}", "--new-initial", "0"]) == 1
    assert main([*base, *at, "--old-final", "1", f"--new-initial={value}"]) == 1
    assert "finite" in capsys.readouterr().err
    assert not db.exists()


def test_an_exchange_contradicting_the_readings_is_refused_and_nothing_written(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'swap.db'}"
    asyncio.run(_readings(url))
    # old final 60000 is far above the last old reading 1010: no step of a1-01 can take it
    args = ["--db", url, "replace-meter", str(site_dir), "--meter", "M-A1-01", "--at", "2026-01-05T12:20:00+01:00"]
    assert main([*args, "--old-final", "60000", "--new-initial", "5"]) == 1
    err = capsys.readouterr().err
    assert "old final 60000" in err and "does not fit the readings" in err

    async def stored() -> int:
        async with Store.open(url) as store:
            return len(await store.exchanges("M-A1-01"))

    assert asyncio.run(stored()) == 0


def test_the_same_exchange_recorded_a_minute_apart_is_one_exchange(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'swap.db'}"
    asyncio.run(_readings(url))
    base = ["--db", url, "replace-meter", str(site_dir), "--meter", "M-A1-01", "--old-final", "1012"]
    assert main([*base, "--new-initial", "5", "--at", "2026-01-05T12:20:00+01:00"]) == 0
    assert main([*base, "--new-initial", "5", "--at", "2026-01-05T12:21:00+01:00"]) == 0
    assert "already recorded" in capsys.readouterr().out
    period = ["--from", "2026-01-05", "--to", "2026-01-05", "--by", "day", "--json"]
    assert main(["--db", url, "consumption", str(site_dir), "--point", "a1-01.energy", *period]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == pytest.approx(22.0)  # not 22 + 1012 again
