"""`bms-bridge consumption` end to end: readings in an SQLite file, JSON or a table on stdout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.cli import main
from metering.readings import Reading
from metering.store import Store
from tests.consumption.conftest import series

JAN_1 = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # 2026-01-01 00:00 Berlin (CET, +01:00)
SPRING = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 2026-03-29 00:00 Berlin; 02:00 CET → 03:00 CEST


def _insert(url: str, readings: list[Reading]) -> None:
    async def insert() -> None:
        async with Store.open(url) as store:
            await store.insert_readings(readings)

    asyncio.run(insert())


def _json(capsys: pytest.CaptureFixture[str], site_dir: Path, url: str, *args: str) -> dict[str, Any]:
    assert main(["--db", url, "consumption", str(site_dir), "--json", *args]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_days_as_json(site_dir: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 1 kWh per quarter hour from 1 Jan 00:00 to 3 Jan 00:00 local: two full days of 96.
    _insert(db_url, series("main.energy", JAN_1, range(2 * 96 + 1)))
    out = _json(capsys, site_dir, db_url, "--point", "main.energy", "--from", "2026-01-01", "--to", "2026-01-02")
    assert {k: out[k] for k in ("point", "unit", "resource", "by", "timezone", "from", "to", "total")} == {
        "point": "main.energy",
        "unit": "kWh",
        "resource": "electricity",
        "by": "day",
        "timezone": "Europe/Berlin",
        "from": "2026-01-01",
        "to": "2026-01-02",
        "total": 192,
    }
    assert out["buckets"] == [
        {
            "start": "2026-01-01T00:00:00+01:00",
            "end": "2026-01-02T00:00:00+01:00",
            "value": 96,
            "quality": "measured",
            "complete": True,
        },
        {
            "start": "2026-01-02T00:00:00+01:00",
            "end": "2026-01-03T00:00:00+01:00",
            "value": 96,
            "quality": "measured",
            "complete": True,
        },
    ]
    assert out["faults"] == []


def test_spring_dst_day_has_23_hours(site_dir: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 29 March 2026 runs 23:00Z → 22:00Z: 92 quarter hours of 1 kWh, 4 per hour, 02:00 local skipped.
    _insert(db_url, series("main.energy", SPRING, range(93)))
    out = _json(
        capsys, site_dir, db_url, "--point", "main.energy", "--from", "2026-03-29", "--to", "2026-03-29", "--by", "hour"
    )
    hours = out["buckets"]
    assert len(hours) == 23
    assert [b["start"] for b in hours[1:3]] == ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00"]
    assert hours[-1]["end"] == "2026-03-30T00:00:00+02:00"
    assert {(b["value"], b["complete"]) for b in hours} == {(4, True)}
    assert out["total"] == 92


def test_months(site_dir: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Hourly readings, 4 kWh an hour, 1 Jan to 1 Mar local: January 31 × 24 × 4 = 2976, February 28 × 96 = 2688.
    # Hour-long steps are split into estimated quarter hours of 1 kWh.
    hours = (31 + 28) * 24
    _insert(db_url, series("main.energy", JAN_1, range(0, 4 * hours + 1, 4), step=timedelta(hours=1)))
    out = _json(
        capsys,
        site_dir,
        db_url,
        "--point",
        "main.energy",
        "--from",
        "2026-01-01",
        "--to",
        "2026-02-28",
        "--by",
        "month",
    )
    assert [(b["start"], b["value"], b["quality"], b["complete"]) for b in out["buckets"]] == [
        ("2026-01-01T00:00:00+01:00", 2976, "estimated", True),
        ("2026-02-01T00:00:00+01:00", 2688, "estimated", True),
    ]
    assert out["total"] == 2976 + 2688


def test_virtual_point_and_table(site_dir: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # common = main − a1-01 − a1-02 = 10 − 3 − 2 = 5 per quarter hour for the first hour of 1 Jan.
    for point_id, step in (("main.energy", 10), ("a1-01.energy", 3), ("a1-02.energy", 2)):
        _insert(db_url, series(point_id, JAN_1, range(0, 5 * step, step)))
    args = ["--point", "common.energy", "--from", "2026-01-01", "--to", "2026-01-01", "--by", "hour"]
    out = _json(capsys, site_dir, db_url, *args)
    assert [(b["start"], b["value"], b["complete"]) for b in out["buckets"]] == [
        ("2026-01-01T00:00:00+01:00", 20, True)
    ]
    assert main(["--db", db_url, "consumption", str(site_dir), *args]) == 0
    table = capsys.readouterr().out
    assert "common.energy (electricity, kWh) by hour" in table
    assert "2026-01-01 00:00+0100" in table and "20.000  measured" in table
    assert "total 20.000 kWh" in table


def test_faults_are_listed(site_dir: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _insert(db_url, series("main.energy", JAN_1, [100, 110, 50, 60]))
    out = _json(capsys, site_dir, db_url, "--point", "main.energy", "--from", "2026-01-01", "--to", "2026-01-01")
    assert [(f["point"], f["kind"], f["before"], f["after"]) for f in out["faults"]] == [
        ("main.energy", "backwards", 110, 50)
    ]
    assert out["total"] == 20
    assert out["buckets"][0]["complete"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--point", "nope", "--from", "2026-01-01", "--to", "2026-01-02"], "unknown point 'nope'"),
        (
            ["--point", "main.power", "--from", "2026-01-01", "--to", "2026-01-02"],
            "point main.power is instantaneous (kW)",
        ),
        (["--point", "main.energy", "--from", "2026-13-01", "--to", "2026-01-02"], "--from '2026-13-01' is not a date"),
        (["--point", "main.energy", "--from", "2026-01-01", "--to", "soon"], "--to 'soon' is not a date"),
        (["--point", "main.energy", "--from", "2026-01-02", "--to", "2026-01-01"], "--to 2026-01-01 is before --from"),
    ],
)
def test_bad_input_exits_1(
    site_dir: Path, db_url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--db", db_url, "consumption", str(site_dir), "--json", *args]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""
    assert not Path(db_url.removeprefix("sqlite:///")).exists()  # refused before opening the database


def test_invalid_site_exits_1(
    site_dir: Path, db_url: str, edit: Callable[[str, str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        "meters.yaml", "meter: M-MAIN, register: active_energy_import", "meter: M-NOPE, register: active_energy_import"
    )
    args = [
        "--db",
        db_url,
        "consumption",
        str(site_dir),
        "--point",
        "main.energy",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-01",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "M-NOPE" in err and "site is invalid" in err


def test_unsupported_database_url_exits_1(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "--db",
        "mysql://x/y",
        "consumption",
        str(site_dir),
        "--point",
        "main.energy",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-01",
    ]
    assert main(args) == 1
    assert "unsupported database URL" in capsys.readouterr().err
