"""Late readings through the real pipeline: readings stored, `close` computes and freezes, readings that
arrive later become a correction line on the next month's statement.

Site: golden case `billing_late_data`, office 1 (a1-01.energy) at 0.20 EUR/kWh + 19 % VAT.
The meter is read every quarter hour and uses 0.25 kWh each (24 kWh a day), but its readings stop on
30 December 00:00 and resume on 2 January 00:00 (local time), 24 kWh higher. At the close of December
the 72 h gap is spread evenly, 24 / 288 = 0.083333... kWh a quarter hour; its 192 quarter hours in
December add up to 16.000 kWh, estimated (billing sums the intervals exactly and rounds once per line,
docs/billing.md, "Rounding"; rounding each quarter hour to 1 Wh first, 0.083, made it 15.936).
The missing readings arrive in January: the office used nothing until 1 January 00:00 and 24 kWh on
1 January.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bms_bridge.cli import main
from metering.readings import Reading
from metering.store import Store
from tests.billing.golden import build_site

CASE = Path(__file__).parent.parent / "fixtures" / "billing_late_data"
BERLIN = ZoneInfo("Europe/Berlin")
SLOT = timedelta(minutes=15)
POINT = "a1-01.energy"


def register(first: datetime, last: datetime, start_value: float, per_slot: float) -> list[Reading]:
    """Readings every quarter hour from `first` to `last` inclusive, local times."""
    readings, at, value = [], first, start_value
    while at <= last:
        readings.append(Reading(POINT, at, value))
        at, value = at + SLOT, value + per_slot
    return readings


async def store_readings(url: str, readings: list[Reading]) -> None:
    async with Store.open(url) as store:
        await store.insert_readings(readings)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_readings_arriving_after_the_close(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = str(build_site(CASE, tmp_path))
    url = f"sqlite:///{tmp_path / 'late.db'}"
    # 1000 kWh on 1 December; 29 days x 24 kWh later, 1696 kWh on 30 December 00:00
    before_gap = register(local("2025-12-01T00:00"), local("2025-12-30T00:00"), 1000, 0.25)
    after_gap = register(local("2026-01-02T00:00"), local("2026-02-01T01:00"), 1720, 0.25)
    asyncio.run(store_readings(url, before_gap + after_gap))

    assert main(["--db", url, "close", site, "--period", "2025-12", "--by", "anna"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "show", site, "2025-12:C1", "--json"]) == 0
    [december] = json.loads(capsys.readouterr().out)["lines"]
    # 29 x 24 = 696 measured + 16 estimated = 712.000 kWh x 0.20 = 142.40, VAT 27.056 -> 27.06
    assert (december["quantity"], december["net"], december["vat"]) == ("712.000", "142.40", "27.06")
    assert (december["opening"], december["closing"], december["estimated_percent"]) == ("1000.000", "1696.000", "2.2")

    # the missing readings: flat at 1696 until 1 January 00:00, then 0.25 kWh a quarter hour again
    late = register(local("2025-12-30T00:15"), local("2026-01-01T00:00"), 1696, 0)
    late += register(local("2026-01-01T00:15"), local("2026-01-01T23:45"), 1696.25, 0.25)
    asyncio.run(store_readings(url, late))

    assert main(["--db", url, "close", site, "--period", "2026-01", "--by", "anna"]) == 0
    assert "1 correction line(s)" in capsys.readouterr().out
    assert main(["--db", url, "show", site, "2026-01:C1", "--json"]) == 0
    january = json.loads(capsys.readouterr().out)
    energy, correction = january["lines"]
    # January: 31 x 24 = 744 kWh x 0.20 = 148.80, VAT 28.272 -> 28.27
    assert (energy["quantity"], energy["net"], energy["vat"]) == ("744.000", "148.80", "28.27")
    # December was 712.000 kWh, is now 696 measured: -16.000 kWh; 142.40 -> 139.20 = -3.20;
    # VAT 27.06 -> 26.45 (139.20 x 19 % = 26.448) = -0.61
    assert (correction["kind"], correction["quantity"], correction["net"], correction["vat"]) == (
        "correction",
        "-16.000",
        "-3.20",
        "-0.61",
    )
    assert correction["refers_to"] == "golden:2025-12:C1:v1"
    assert (january["net"], january["vat"], january["gross"]) == ("145.60", "27.66", "173.26")

    # December itself, as issued, is unchanged
    assert main(["--db", url, "show", site, "2025-12:C1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lines"] == [december]
