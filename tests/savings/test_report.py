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


def day_of(point: str, day: date, kwh: float, estimated: int = 0) -> list[Interval]:
    start = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)
    return [
        Interval(
            point, start + timedelta(minutes=15 * i), kwh, Quality.ESTIMATED if i < estimated else Quality.MEASURED
        )
        for i in range(96)
    ]


async def _fill(url: str) -> None:
    async with Store.open(url) as store:
        rows = [
            *day_of("main.energy", date(2025, 1, 5), 1.0),  # Jan 2025: 2 days x 96 x 1 kWh = 192
            *day_of("main.energy", date(2025, 1, 6), 1.0),
            *day_of("main.energy", date(2026, 1, 5), 1.5, estimated=10),  # Jan 2026: 2 x 96 x 1.5 = 288
            *day_of("main.energy", date(2026, 1, 6), 1.5),
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
    assert electricity["total"] == 480.0  # 288 + 192
    assert electricity["intensity_per_m2"] == round(480 / 490, 4)  # 0.9796 kWh/m²
    jan, feb = electricity["months"][0], electricity["months"][1]
    assert (jan["value"], jan["previous_year"], jan["change_pct"]) == (288.0, 192.0, 50.0)
    assert (feb["value"], feb["previous_year"], feb["change_pct"]) == (192.0, None, None)
    # the year on year change compares the months both years have: January, +50 %
    assert (electricity["previous_year_same_months"], electricity["change_pct"]) == (192.0, 50.0)
    assert electricity["estimated_share_pct"] == round(10 / 288 * 100, 3)  # 10 of 288 quarter hours
    assert jan["estimated_share_pct"] == round(10 / 192 * 100, 3)
    assert electricity["co2e_kg"] == 192.0  # 480 kWh x 0.4 kg
    assert report["site_total"]["co2e_kg"] == 192.0 and report["site_total"]["co2e_missing_factors"] == []
    assert report["measures"] == []
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 2  # site and building A
    assert "Jan: 288.0 kWh" in html and "<script" not in html


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
