"""`bms-bridge report` on a tiny site with intervals whose sums a person can check by hand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bms_bridge.cli import main
from metering.readings import Interval, Quality
from metering.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
FACTORS = """emission_factors:
  - {resource: electricity, year: 2026, kg_co2e_per_unit: 0.4, source: "test factor"}
"""


def day_of(point: str, day: date, kwh: float, estimated: int = 0, slots: int = 96) -> list[Interval]:
    start = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)
    return [
        Interval(
            point, start + timedelta(minutes=15 * i), kwh, Quality.ESTIMATED if i < estimated else Quality.MEASURED
        )
        for i in range(slots)
    ]


async def _fill(url: str) -> None:
    async with Store.open(url) as store:
        rows = [
            *day_of("main.energy", date(2025, 1, 5), 1.0),  # Jan 2025: 2 days x 96 x 1 kWh = 192
            *day_of("main.energy", date(2025, 1, 6), 1.0),
            *day_of("main.energy", date(2025, 1, 7), 1.0),  # ... and a third day: 288 in Jan 2025
            *day_of("main.energy", date(2026, 1, 5), 1.5, estimated=10),  # Jan 2026: 2 x 96 x 1.5 = 288
            *day_of("main.energy", date(2026, 1, 6), 1.5),
            *day_of("main.energy", date(2026, 1, 7), 1.5, slots=48),  # half a day, + 72: not compared
            *day_of("main.energy", date(2026, 2, 2), 2.0),  # Feb 2026: 192, nothing the year before
            *day_of("a1-01.energy", date(2026, 1, 5), 0.5),  # a sub-meter: not the building's total
        ]
        await store.upsert_intervals(rows)


@pytest.fixture
def tiny(site_dir: Path, edit: Callable[[str, str, str], Path]) -> Path:
    edit("meters.yaml", "multiplier: 40}", "multiplier: 40, space: A1-CORR}")
    edit("meters.yaml", "space: A1-01}", "space: A1-01, submeter_of: M-MAIN}")
    edit("meters.yaml", "space: A1-02}", "space: A1-02, submeter_of: M-MAIN}")
    (site_dir / "factors.yaml").write_text(FACTORS)
    return site_dir


def test_report_json_numbers_by_hand(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    asyncio.run(_fill(url))
    out = tmp_path / "report.html"
    assert main(["--db", url, "report", str(tiny), "--year", "2026", "--json", "--html", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    (building,) = report["buildings"]
    assert building["id"] == "A" and building["area_m2"] == 490  # 250 + 180 + 60
    (electricity,) = building["resources"]
    assert electricity["points"] == ["main.energy"]
    assert electricity["total"] == 552.0  # January 360 + February 192
    assert electricity["intensity_per_m2"] == round(552 / 490, 4)  # 1.1265 kWh/m²
    jan, feb = electricity["months"][0], electricity["months"][1]
    assert (jan["value"], jan["previous_year"]) == (360.0, 288.0)
    # year on year, day for day: the 5th and 6th are complete in both years (288 against 192); the half 7th is not
    assert (jan["comparable_days"], jan["change_pct"]) == (2, 50.0)
    assert (feb["value"], feb["previous_year"], feb["change_pct"], feb["comparable_days"]) == (192.0, None, None, 0)
    assert (electricity["comparable_total"], electricity["previous_year_same_days"]) == (288.0, 192.0)
    assert electricity["change_pct"] == 50.0
    assert electricity["estimated_share_pct"] == round(10 / 336 * 100, 3)  # 10 of 240 + 96 quarter hours
    assert jan["estimated_share_pct"] == round(10 / 240 * 100, 3)
    assert jan["missing_share_pct"] == round((2976 - 240) / 2976 * 100, 3)  # 31 x 96 quarter hours in January
    assert electricity["co2e_kg"] == 220.8  # 552 kWh x 0.4 kg
    assert report["site_total"]["co2e_kg"] == 220.8 and report["site_total"]["co2e_missing_factors"] == []
    assert report["measures"] == []
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 2  # site and building A
    assert "Jan: 360.0 kWh" in html and "<script" not in html


def test_no_factor_says_so(
    site_dir: Path, edit: Callable[[str, str, str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit("meters.yaml", "multiplier: 40}", "multiplier: 40, space: A1-CORR}")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    asyncio.run(_fill(url))
    assert main(["--db", url, "report", str(site_dir), "--year", "2026", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["site_total"]["co2e_missing_factors"] == ["electricity"]
    assert all(r["co2e_kg"] is None for r in report["site_total"]["resources"])
    assert main(["--db", url, "report", str(site_dir), "--year", "2026"]) == 0
    assert "no emission factor" in capsys.readouterr().out


def test_bad_year_exits_1(site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", f"sqlite:///{tmp_path / 'r.db'}", "report", str(site_dir), "--year", "26"]) == 1
    assert "is not a year" in capsys.readouterr().err


async def _one_reading(url: str) -> None:
    from metering.readings import Reading

    async with Store.open(url) as store:
        await store.insert_readings([Reading("main.energy", datetime(2026, 3, 1, tzinfo=UTC), 10.0)])


def test_a_year_after_the_data_exits_1(site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    asyncio.run(_one_reading(url))
    assert main(["--db", url, "report", str(site_dir), "--year", "2027"]) == 1
    assert "there is no data for 2027 yet: the stored readings end on 2026-03-01" in capsys.readouterr().err
