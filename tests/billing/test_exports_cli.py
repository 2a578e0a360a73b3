"""`bms-bridge export`: the golden cases' sites (tests/billing/base_site + a case) exported as files."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from billing_export.exports.espi_validation import espi_problems
from billing_export.period import Period
from bms_bridge.cli import main
from bms_bridge.commands.close import close_month
from bms_bridge.sites import open_site
from metering.store.store import Store
from tests.billing.exports_support import FIXTURES
from tests.billing.golden import build_site, load_into

ESPI = {"e": "http://naesb.org/espi"}


def _site(case: str, tmp: Path, *, close: bool = True) -> tuple[Path, str]:
    """The case's site folder and a database URL holding its intervals and readings (and the case's
    month closed, its statements stored as drafts, unless `close` is false)."""
    site_dir = build_site(FIXTURES / case, tmp)
    url = f"sqlite:///{tmp / 'site.db'}"
    data = json.loads((FIXTURES / case / "input.json").read_text())

    async def fill() -> None:
        async with Store.open(url) as store:
            await load_into(store, data, open_site(site_dir).model.site.zone)

        if close:
            site = open_site(site_dir)
            period = Period.parse(data["period"], site.model.site.zone)
            await close_month(site, url, period, "test", datetime.now(UTC))

    asyncio.run(fill())
    return site_dir, url


def _export(site_dir: Path, url: str, period: str, kind: str, out: Path) -> int:
    return main(["--db", url, "export", str(site_dir), "--period", period, "--format", kind, "--out", str(out)])


def test_csv_and_xlsx_of_the_pool_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # golden billing_pool_area, July 2025: C1 975.47 (3 lines), C2 214.93 (2 lines)
    site_dir, url = _site("billing_pool_area", tmp_path)
    assert _export(site_dir, url, "2025-07", "csv", tmp_path / "july.csv") == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "july.csv")
    text = (tmp_path / "july.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    net = {c: sum(Decimal(r["net"]) for r in rows if r["contract"] == c) for c in ("C1", "C2")}
    assert net == {"C1": Decimal("975.47"), "C2": Decimal("214.93")}

    assert _export(site_dir, url, "2025-07", "xlsx", tmp_path / "july.xlsx") == 0
    book = load_workbook(tmp_path / "july.xlsx")
    totals = [[cell.value for cell in row] for row in book["Totals"].iter_rows(min_row=2)]
    assert [(row[0], row[1], row[9], row[11]) for row in totals] == [
        ("golden:2025-07:C1", 1, 975.47, 975.47),
        ("golden:2025-07:C2", 1, 214.93, 214.93),
    ]
    assert book["Lines"].max_row == 1 + 5


def test_json_one_document_per_statement(tmp_path: Path) -> None:
    site_dir, url = _site("billing_pool_area", tmp_path)
    out = tmp_path / "json"
    assert _export(site_dir, url, "2025-07", "json", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["2025-07_C1.json", "2025-07_C2.json"]
    document = json.loads((out / "2025-07_C2.json").read_bytes())
    assert (document["statement_id"], document["version"]) == ("golden:2025-07:C2", 1)
    assert document["totals"] == {"net": "214.93", "vat": "0.00", "gross": "214.93"}
    assert [line["kind"] for line in document["lines"]] == ["energy", "allocation"]


def test_espi_feed_per_contract_and_point_cut_at_the_move_out(tmp_path: Path) -> None:
    # golden billing_move_out, June 2025: a1-02 billed to C1 until 15 June 12:00 (348 kWh), then C2 (372 kWh);
    # run as a separate process, like an operator would
    site_dir, url = _site("billing_move_out", tmp_path)
    out = tmp_path / "espi"
    command = [sys.executable, "-m", "bms_bridge.cli", "--db", url, "export", str(site_dir)]
    command += ["--period", "2025-06", "--format", "espi", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["2025-06_C1_a1-02.energy.xml", "2025-06_C2_a1-02.energy.xml"]
    for name, kwh, readings in (("C1", 348, 14 * 96 + 48), ("C2", 372, 15 * 96 + 48)):
        data = (out / f"2025-06_{name}_a1-02.energy.xml").read_bytes()
        assert espi_problems(data) == []
        values = [int(v.text or "") for v in etree.fromstring(data).iterfind(".//e:IntervalReading/e:value", ESPI)]
        assert (len(values), sum(values)) == (readings, kwh * 1000)  # Wh
        costs = [int(c.text or "") for c in etree.fromstring(data).iterfind(".//e:IntervalReading/e:cost", ESPI)]
        assert sum(costs) == kwh * 20 * 1000  # 0.20 EUR/kWh, in 1e-5 EUR


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--period", "2025-13", "--format", "csv", "--out", "{tmp}/x.csv"], "--period '2025-13' is not a month"),
        (["--period", "2023-06", "--format", "csv", "--out", "{tmp}/x.csv"], "period 2023-06 is not closed"),
        (["--period", "2025-06", "--format", "xlsx", "--out", "{tmp}"], "is a folder; give the xlsx file to write"),
        (["--period", "2025-06", "--format", "json", "--out", "{tmp}/site.db"], "is a file, but json export"),
        (["--period", "2025-06", "--format", "csv", "--out", "{tmp}/no/x.csv"], "the folder of --out"),
    ],
)
def test_refusals_are_one_sentence_and_write_nothing(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site_dir, url = _site("billing_move_out", tmp_path)
    before = sorted(tmp_path.rglob("*"))
    args = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    assert main(["--db", url, "export", str(site_dir), *args]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.endswith("; nothing was written\n")
    assert error.count("\n") == 1
    assert sorted(tmp_path.rglob("*")) == before


def test_a_missing_database_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site_dir = build_site(FIXTURES / "billing_move_out", tmp_path)
    missing = tmp_path / "nothing-here.db"
    assert _export(site_dir, f"sqlite:///{missing}", "2025-06", "csv", tmp_path / "x.csv") == 1
    assert f"there is no database at {missing}" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "x.csv").exists()
