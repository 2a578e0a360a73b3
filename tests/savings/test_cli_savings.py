"""Measured savings and forecasts through the CLI, on the tiny site with a weather station CSV."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from bms_bridge.cli import main
from metering.readings import Interval
from metering.store import Store
from tests.savings.synthetic import series, temperature

BERLIN = ZoneInfo("Europe/Berlin")
DE_2025 = frozenset(holidays.country_holidays("DE", years=2025))  # the tiny site's calendar
MEASURE = date(2025, 10, 1)
SAVINGS_YAML = """measures:
  - id: led-office-1
    date: 2025-10-01
    scope: tenants
    tenants: [T1]
    description: LED lighting in office 1
savings:
  outdoor_temperature: {csv: weather.csv}
emission_factors:
  - {resource: electricity, year: 2025, kg_co2e_per_unit: 0.3, source: test}
"""


def spread(point: str, day: date, value: float) -> list[Interval]:
    """A day's use spread evenly over its quarter hours (92, 96 or 100 of them)."""
    start = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)
    after = day + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=BERLIN).astimezone(UTC)
    slots = int((end - start) / timedelta(minutes=15))
    return [Interval(point, start + timedelta(minutes=15 * i), value / slots) for i in range(slots)]


async def _fill(url: str, uses: list[tuple[date, float]], half: date | None = None) -> None:
    async with Store.open(url) as store:
        rows = [i for day, value in uses for i in spread("a1-01.energy", day, value)]
        if half is not None:  # the second half of that day is missing
            rows = [
                i for i in rows if i.start.astimezone(BERLIN).date() != half or i.start.astimezone(BERLIN).hour < 12
            ]
        await store.upsert_intervals(rows)


@pytest.fixture
def site(site_dir: Path, edit: Callable[[str, str, str], Path]) -> Path:
    (site_dir / "savings.yaml").write_text(SAVINGS_YAML)
    rows = ["date,mean_temperature_c"] + [
        f"{date(2025, 1, 1) + timedelta(days=i)},{temperature(date(2025, 1, 1) + timedelta(days=i)):.2f}"
        for i in range(365)
    ]
    (site_dir / "weather.csv").write_text("\n".join(rows) + "\n")
    return site_dir


GAP = [date(2025, 11, d) for d in range(10, 15)]  # the meter was offline: no intervals
HALF_DAY = date(2025, 10, 26)  # the autumn DST day (100 quarter hours), only half of it read


def test_report_measures_a_known_saving(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uses, _ = series(365, saving_from=MEASURE, saving=0.15, holidays=DE_2025)
    url = f"sqlite:///{tmp_path / 's.db'}"
    asyncio.run(_fill(url, [(u.day, u.value) for u in uses if u.day not in GAP], half=HALF_DAY))
    assert main(["--db", url, "report", str(site), "--year", "2025", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["measures"]
    assert result["measure"] == "led-office-1" and result["points"] == ["a1-01.energy"]
    assert result["baseline"]["usable"] and result["baseline"]["fit"]["cv_rmse_pct"] < 5
    saved = result["savings"]
    # 1 October to 31 December (the year is over) is 92 days, less 5 offline and the half-read DST day
    assert (saved["first_day"], saved["last_day"], saved["days"]) == ("2025-10-01", "2025-12-31", 86)
    judged = [u for u in uses if u.day >= MEASURE and u.day not in GAP and u.day != HALF_DAY]
    truth = sum(u.value / 0.85 * 0.15 for u in judged)
    assert abs(saved["savings"] - truth) <= saved["uncertainty"]
    assert saved["savings_pct"] == pytest.approx(15, abs=1.5) and saved["significant"]
    assert saved["co2e_saved_kg"] == pytest.approx(saved["savings"] * 0.3, abs=0.1)  # the 2025 factor


def test_report_says_why_there_is_no_saving(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uses, _ = series(365, saving_from=MEASURE, saving=0.15, noise=0.8, holidays=DE_2025)
    url = f"sqlite:///{tmp_path / 's.db'}"
    asyncio.run(_fill(url, [(u.day, max(0.0, u.value)) for u in uses]))
    assert main(["--db", url, "report", str(site), "--year", "2025", "--json", "--html", str(tmp_path / "r.html")]) == 0
    (result,) = json.loads(capsys.readouterr().out)["measures"]
    assert result["savings"] is None
    assert result["no_savings_because"][0].startswith("no usable baseline: CV(RMSE)")
    assert "No savings figure: no usable baseline: CV(RMSE)" in (tmp_path / "r.html").read_text()


def test_forecast_and_a_deviation_event(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uses, _ = series(365, holidays=DE_2025)
    spiked = [(u.day, u.value + (400 if u.day == date(2025, 7, 10) else 0)) for u in uses if u.day < date(2025, 7, 20)]
    url = f"sqlite:///{tmp_path / 's.db'}"
    asyncio.run(_fill(url, spiked))
    assert main(["--db", url, "forecast", str(site), "--today", "2025-07-20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    tenant = next(f for f in out["forecasts"] if f["subject"] == "tenant:T1")
    assert tenant["month"] == "2025-07" and tenant["measured_days"] == 19
    assert tenant["measured"] == pytest.approx(sum(v for d, v in spiked if d >= date(2025, 7, 1)), abs=Decimal("0.01"))
    truth_rest = sum(u.value for u in uses if date(2025, 7, 20) <= u.day <= date(2025, 7, 31))
    assert abs(tenant["rest"] - truth_rest) <= tenant["uncertainty"]
    assert tenant["measured_cost"] is not None and tenant["currency"] == "EUR"
    # the spike is the one day above its 99 % interval; with 19 noisy days one may fall below it by chance (info)
    assert main(["--db", url, "events", str(site), "--json", "--kind", "forecast-deviation"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == out["deviations"]
    (above,) = [e for e in listed if e["severity"] == "warning"]
    assert (above["subject"], above["details"]["day"]) == ("tenant:T1", "2025-07-10")
    assert above["energy"] == pytest.approx(400, abs=60)  # the 400 kWh added, against the forecast
    assert all(e["details"]["measured"] < e["details"]["low"] for e in listed if e is not above)
    # run again: the flagged day keeps its one event
    assert main(["--db", url, "forecast", str(site), "--today", "2025-07-20"]) == 0
    assert f"{len(listed)} day{'s' if len(listed) != 1 else ''} outside their forecast" in capsys.readouterr().out
    assert main(["--db", url, "events", str(site), "--json", "--kind", "forecast-deviation"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(listed)


def test_a_tenant_forecast_is_priced_at_its_own_tariff(
    site: Path, edit: Callable[[str, str, str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit("tenants.yaml", "    tariffs: {electricity: elec}\n", "    tariffs: {electricity: green}\n")  # C1 only
    (site / "green.yaml").write_text(
        "tariffs:\n  - {id: green, resource: electricity, unit: kWh, zones: [{id: flat, price: 0.25}]}\n"
    )
    uses, _ = series(365, holidays=DE_2025)
    url = f"sqlite:///{tmp_path / 's.db'}"
    asyncio.run(_fill(url, [(u.day, u.value) for u in uses if u.day < date(2025, 7, 20)]))
    assert main(["--db", url, "forecast", str(site), "--today", "2025-07-20", "--json"]) == 0
    tenant = next(f for f in json.loads(capsys.readouterr().out)["forecasts"] if f["subject"] == "tenant:T1")
    # flat 0.25 EUR/kWh: measured money = measured kWh x 0.25, the rest at the same average price
    assert Decimal(tenant["measured_cost"]) == pytest.approx(
        Decimal(str(tenant["measured"])) * Decimal("0.25"), abs=Decimal("0.01")
    )
    assert Decimal(tenant["forecast_cost"]) == pytest.approx(
        Decimal(str(tenant["total"])) * Decimal("0.25"), abs=Decimal("0.02")
    )


def test_a_broken_weather_csv_exits_1(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "weather.csv").write_text("date,mean_temperature_c\n2025-01-01,cold\n")
    assert main(["--db", f"sqlite:///{tmp_path / 's.db'}", "forecast", str(site), "--today", "2025-07-20"]) == 1
    assert "line 2: expected YYYY-MM-DD,degC" in capsys.readouterr().err


def test_a_yearly_report_counts_the_savings_of_its_own_year(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A measure of October 2025 in the 2026 report: baseline before October 2025, savings from 1 January."""
    uses, _ = series(365 + 90, saving_from=MEASURE, saving=0.15, holidays=DE_2025)
    (site / "weather.csv").write_text(
        "date,mean_temperature_c\n" + "".join(f"{u.day},{temperature(u.day):.2f}\n" for u in uses)
    )
    url = f"sqlite:///{tmp_path / 's.db'}"
    asyncio.run(_fill(url, [(u.day, u.value) for u in uses]))
    assert main(["--db", url, "report", str(site), "--year", "2026", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["measures"]
    assert result["baseline"]["fit"]["last_day"] == "2025-09-30"
    assert result["savings"]["first_day"] == "2026-01-01"
    assert result["savings"]["savings_pct"] == pytest.approx(15, abs=2)
