"""Dynamic prices from an HTTP source of day-ahead prices (`prices_url`), kept so a close is reproducible.

The golden case `billing_dynamic_prices` with its CSV replaced by a price source in a process of its
own: hourly prices for April 2025, 0.20 EUR/kWh until 16 April 00:00 (local), 0.30 from then on;
1 kW all month. 360 kWh x 0.20 = 72.00 + 360 kWh x 0.30 = 108.00: one line of 720 kWh, 180.00 EUR,
unit price shown 180.00 / 720 = 0.25.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from lxml import etree

from billing_export.day_ahead import in_force_during, parse_price_json
from bms_bridge.cli import main
from bms_bridge.sites import open_site
from metering.store import Store
from point_mapping.errors import SiteInvalid
from tests.billing.exports_support import FIXTURES
from tests.billing.golden import build_site, load_into
from tests.support.services import free_tcp_port, port_answers

BERLIN = ZoneInfo("Europe/Berlin")
REPO = Path(__file__).resolve().parents[2]
CASE = FIXTURES / "billing_dynamic_prices"


def april_hours() -> list[dict[str, str]]:
    """Hourly prices from 31 March 23:00 to 1 May 01:00 local (a little beyond the month, as sources do)."""
    start = datetime(2025, 3, 31, 23, tzinfo=BERLIN)
    rows = []
    for hour in range(24 * 31 + 2):
        at = (start.astimezone(ZoneInfo("UTC")) + timedelta(hours=hour)).astimezone(BERLIN)
        price = "0.20" if at < datetime(2025, 4, 16, tzinfo=BERLIN) else "0.30"
        rows.append({"start": at.isoformat(), "zone": "flat", "price": price})
    return rows


class PriceSource:
    def __init__(self, folder: Path, *, csv: bool = False) -> None:
        self.port = free_tcp_port()
        self.prices = folder / "source-prices.json"
        self.prices.write_text(json.dumps({"prices": april_hours()}))
        self.csv = csv
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/day-ahead"

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.billing.price_server", "--port", str(self.port)]
        command += ["--prices", str(self.prices), *(["--csv"] if self.csv else [])]
        self.process = subprocess.Popen(command, cwd=REPO)
        deadline = time.monotonic() + 15
        while not port_answers("127.0.0.1", self.port, timeout=0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("price source did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            self.process = None

    def requests(self) -> list[dict[str, str]]:
        async def get() -> Any:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{self.port}/control/requests") as response,
            ):
                return await response.json()

        return list(asyncio.run(get()))


@pytest.fixture(params=["json", "csv"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PriceSource]:
    process = PriceSource(tmp_path, csv=request.param == "csv")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def make_site(tmp_path: Path, url: str) -> tuple[Path, str]:
    site_dir = build_site(CASE, tmp_path)
    tenants = site_dir / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace("prices_csv: prices.csv", f"prices_url: {url}"))
    (site_dir / "prices.csv").unlink()
    db = f"sqlite:///{tmp_path / 'site.db'}"

    async def fill() -> None:
        async with Store.open(db) as store:
            data = json.loads((CASE / "input.json").read_text())
            await load_into(store, data, BERLIN)

    asyncio.run(fill())
    return site_dir, db


def test_the_close_fetches_the_month_once_and_keeps_it(
    tmp_path: Path, source: PriceSource, capsys: pytest.CaptureFixture[str]
) -> None:
    site_dir, db = make_site(tmp_path, source.url)
    site = str(site_dir)
    assert main(["--db", db, "close", site, "--period", "2025-04", "--by", "anna"]) == 0
    assert "net       180.00 EUR" in capsys.readouterr().out
    assert source.requests() == [{"from": "2025-03-31T22:00:00Z", "to": "2025-04-30T22:00:00Z"}]
    assert main(["--db", db, "show", site, "golden:2025-04:C1", "--json"]) == 0
    (line,) = json.loads(capsys.readouterr().out)["lines"]
    assert (line["quantity"], line["unit_price"], line["net"]) == ("720.000", "0.25000", "180.00")

    kept = json.loads((site_dir / ".state" / "day-ahead" / "el" / "2025-04.json").read_text())
    assert (kept["tariff"], kept["period"], kept["source"]) == ("el", "2025-04", [source.url])
    assert len(kept["prices"]) == 30 * 24  # 1 April 00:00 to 30 April 23:00 local: the hours that price April
    assert kept["prices"][0] == {"start": "2025-04-01T00:00:00+02:00", "zone": "flat", "price": "0.20"}

    # the source is gone (or would answer other prices now): the month's ESPI costs come from what was kept
    source.stop()
    out = tmp_path / "espi"
    assert main(["--db", db, "export", site, "--period", "2025-04", "--format", "espi", "--out", str(out)]) == 0
    (feed,) = out.iterdir()
    ns = {"e": "http://naesb.org/espi"}
    costs = [int(c.text or "") for c in etree.fromstring(feed.read_bytes()).iterfind(".//e:IntervalReading/e:cost", ns)]
    assert sum(costs) == 180 * 100_000  # EUR in 1e-5
    assert main(["--db", db, "close", site, "--period", "2025-04", "--by", "anna"]) == 0
    assert "0 statement(s) created as draft, 1 already there" in capsys.readouterr().out


def test_a_source_that_does_not_answer_refuses_the_close(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}/day-ahead"  # nobody listens
    site_dir, db = make_site(tmp_path, url)
    assert main(["--db", db, "close", str(site_dir), "--period", "2025-04"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot fetch the day-ahead prices of 2025-04 from {url} (")
    assert err.endswith("); retry when the source answers\n") and err.count("\n") == 1
    assert not (site_dir / ".state" / "day-ahead").exists()


def test_plain_http_is_only_for_this_machine(tmp_path: Path) -> None:
    site_dir = build_site(CASE, tmp_path)
    tenants = site_dir / "tenants.yaml"
    tenants.write_text(
        tenants.read_text().replace("prices_csv: prices.csv", "prices_url: http://prices.example.com/da")
    )
    with pytest.raises(SiteInvalid) as invalid:
        open_site(site_dir)
    assert "plain HTTP is only allowed to loopback hosts" in str(invalid.value)
    assert "use https:// for prices.example.com" in str(invalid.value)


def test_prices_are_decimals_in_force_until_the_next_entry() -> None:
    table = parse_price_json(
        '{"prices": [{"start": "2025-04-01T00:00:00+02:00", "zone": "day", "price": 0.1234},'
        ' {"start": "2025-04-01T01:00:00+02:00", "zone": "day", "price": "0.2"},'
        ' {"start": "2025-04-01T02:00:00+02:00", "zone": "day", "price": "0.3"}]}'
    )
    assert table.price("day", datetime(2025, 4, 1, 0, 45, tzinfo=BERLIN)) == Decimal("0.1234")
    assert table.price("day", datetime(2025, 4, 1, 1, 59, tzinfo=BERLIN)) == Decimal("0.2")
    assert table.price("day", datetime(2025, 3, 31, 23, 59, tzinfo=BERLIN)) is None
    middle = in_force_during(table, datetime(2025, 4, 1, 0, 30, tzinfo=BERLIN), datetime(2025, 4, 1, 2, tzinfo=BERLIN))
    assert [str(p) for p in middle.prices["day"]] == ["0.1234", "0.2"]  # 00:00 still in force at 00:30
    with pytest.raises(ValueError, match=r"prices\[1\]: price True is not a number"):
        parse_price_json(
            '{"prices": [{"start": "2025-04-01T00:00:00Z", "zone": "d", "price": "1"},'
            ' {"start": "2025-04-01T01:00:00Z", "zone": "d", "price": true}]}'
        )
    with pytest.raises(ValueError, match="give the start with its UTC offset"):
        parse_price_json('{"prices": [{"start": "2025-04-01T00:00:00", "zone": "d", "price": "1"}]}')
