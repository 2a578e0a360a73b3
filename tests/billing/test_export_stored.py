"""`bms-bridge export` writes the statements `close` stored, not a fresh computation: an adjustment made
after approval (version 2) is what the files show, with its version number.

Golden case `billing_move_out`, June 2025: Alpha (C1) 348 kWh x 0.20 = 69.60 + standing charge 14.50
= 84.10; Beta (C2) 74.40 + 15.50 = 89.90. C1's standing charge is agreed at 10.00 after approval:
version 2, net 69.60 + 10.00 = 79.60.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bms_bridge.cli import main
from tests.billing.test_exports_cli import _site


def cli(url: str, *args: str) -> int:
    return main(["--db", url, *args])


def test_the_export_shows_the_newest_stored_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site_dir, url = _site("billing_move_out", tmp_path)
    site = str(site_dir)
    c1 = "golden:2025-06:C1:v1"
    assert cli(url, "review", site, c1, "--by", "anna") == 0
    assert cli(url, "approve", site, c1, "--by", "bernd") == 0
    assert cli(url, "adjust", site, c1, "--line", "2", "--amount", "10.00", "--reason", "agreed", "--by", "anna") == 0
    capsys.readouterr()

    out = tmp_path / "json"
    assert cli(url, "export", site, "--period", "2025-06", "--format", "json", "--out", str(out)) == 0
    documents = [json.loads(p.read_bytes()) for p in sorted(out.iterdir())]
    assert [(d["statement_id"], d["version"], d["totals"]["net"]) for d in documents] == [
        ("golden:2025-06:C1", 2, "79.60"),
        ("golden:2025-06:C2", 1, "89.90"),
    ]

    assert cli(url, "export", site, "--period", "2025-06", "--format", "csv", "--out", str(tmp_path / "june.csv")) == 0
    text = (tmp_path / "june.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert [(r["statement_id"], r["version"], r["line"], r["net"]) for r in rows] == [
        ("golden:2025-06:C1", "2", "1", "69.60"),
        ("golden:2025-06:C1", "2", "2", "10.00"),
        ("golden:2025-06:C2", "1", "1", "74.40"),
        ("golden:2025-06:C2", "1", "2", "15.50"),
    ]


def test_a_month_not_closed_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site_dir, url = _site("billing_move_out", tmp_path, close=False)
    out = tmp_path / "june.csv"
    assert cli(url, "export", str(site_dir), "--period", "2025-06", "--format", "csv", "--out", str(out)) == 1
    assert capsys.readouterr().err == (
        f"error: period 2025-06 is not closed; close it first with: bms-bridge close {site_dir} --period 2025-06;"
        " nothing was written\n"
    )
    assert not out.exists()
