"""The billing commands end to end through `bms_bridge.cli.main`, on an SQLite file and on PostgreSQL.

The site is the golden case `billing_move_out`: office 2 changes tenant on 2025-06-15 at 12:00, 1 kW
all month at 0.20 EUR/kWh, standing charge 30.00 a month, no VAT. Alpha (C1): 348 kWh = 69.60 and
14.5 of 30 days = 14.50, net 84.10; Beta (C2): 372 kWh = 74.40 and 15.50, net 89.90.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bms_bridge.cli import main
from bms_bridge.sites import open_site
from metering.store import ConsumptionStore, Store
from tests.billing.golden import build_site, load_into
from tests.support.services import POSTGRES_URL, require_postgres

CASE = Path(__file__).parent.parent / "fixtures" / "billing_move_out"
C1 = "golden:2025-06:C1:v1"


async def _load(site_dir: Path, url: str) -> None:
    site = open_site(site_dir).model
    async with Store.open(url) as store:
        await load_into(store, json.loads((CASE / "input.json").read_text()), site.site.zone)
        await ConsumptionStore(store).take_dirty()  # keep the golden intervals as given


async def _admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    require_postgres()
    name = f"t_{uuid.uuid4().hex}"  # a database of its own: the commands use its default schema
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> str:
    site_dir = build_site(CASE, tmp_path)
    asyncio.run(_load(site_dir, db_url))
    return str(site_dir)


def cli(db_url: str, *args: str) -> int:
    return main(["--db", db_url, *args])


def as_json(capsys: pytest.CaptureFixture[str], db_url: str, *args: str) -> Any:
    capsys.readouterr()
    assert cli(db_url, *args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_close_twice_then_show(site: str, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(db_url, "close", site, "--period", "2025-06", "--by", "anna") == 0
    assert "2 statement(s) created as draft, 0 already there" in capsys.readouterr().out
    assert cli(db_url, "close", site, "--period", "2025-06", "--by", "anna") == 0
    assert "0 statement(s) created as draft, 2 already there and left as they were" in capsys.readouterr().out

    listed = as_json(capsys, db_url, "statements", site, "--period", "2025-06")
    assert [(s["id"], s["state"], s["net"]) for s in listed] == [
        (C1, "draft", "84.10"),
        ("golden:2025-06:C2:v1", "draft", "89.90"),
    ]
    assert as_json(capsys, db_url, "statements", site, "--state", "approved") == []

    shown = as_json(capsys, db_url, "show", site, C1)
    energy, fee = shown["lines"]
    assert (energy["meter_serial"], energy["opening"], energy["closing"]) == ("SDM-0102", "100.000", "448.000")
    assert (energy["quantity"], energy["unit"], energy["unit_price"], energy["net"]) == (
        "348.000",
        "kWh",
        "0.2",
        "69.60",
    )
    assert (energy["estimated_percent"], fee["quantity"], fee["unit"], fee["net"]) == ("0.0", "14.5000", "d", "14.50")
    assert (shown["tenant_name"], shown["net"], shown["vat"], shown["gross"]) == (
        "Alpha GmbH",
        "84.10",
        "0.00",
        "84.10",
    )

    assert cli(db_url, "show", site, "2025-06:C1") == 0  # the site prefix and the version may be left out
    out = capsys.readouterr().out
    assert "point a1-02.energy, meter SDM-0102, register 100.000 -> 448.000" in out
    assert "348.000 kWh x 0.2 = 69.60 EUR" in out
    assert "gross          84.10 EUR" in out


def test_review_adjust_approve_and_the_audit_log(site: str, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(db_url, "close", site, "--period", "2025-06", "--by", "anna") == 0
    assert cli(db_url, "approve", site, C1, "--by", "bernd") == 1
    err = capsys.readouterr().err
    assert err == f"error: statement {C1} is draft; it must be reviewed before you approve it (next step: review)\n"

    with pytest.raises(SystemExit) as missing:  # no reason: argparse refuses, nothing is written
        cli(db_url, "adjust", site, C1, "--line", "2", "--amount", "10.00")
    assert missing.value.code == 2
    assert cli(db_url, "adjust", site, C1, "--line", "2", "--amount", "ten", "--reason", "x") == 1
    assert "is not a number" in capsys.readouterr().err
    assert cli(db_url, "adjust", site, C1, "--line", "7", "--amount", "10", "--reason", "x") == 1
    assert "has lines 1 to 2, not 7" in capsys.readouterr().err

    assert cli(db_url, "review", site, C1, "--by", "anna") == 0
    # standing charge agreed at 10.00 for the half month: 69.60 + 10.00 = 79.60; back to draft
    assert (
        cli(db_url, "adjust", site, C1, "--line", "2", "--amount", "10.00", "--reason", "agreed", "--by", "anna") == 0
    )
    assert "is draft again" in capsys.readouterr().out
    shown = as_json(capsys, db_url, "show", site, C1)
    assert (shown["state"], shown["net"], shown["lines"][1]["adjusted"]["reason"]) == ("draft", "79.60", "agreed")

    assert cli(db_url, "review", site, C1, "--by", "anna") == 0
    assert cli(db_url, "approve", site, C1, "--by", "bernd") == 0
    assert f"{C1} is approved (gross 79.60 EUR)" in capsys.readouterr().out
    assert cli(db_url, "review", site, C1, "--by", "anna") == 1
    assert "already approved, past reviewed" in capsys.readouterr().err

    # after approval a change makes version 2; version 1 stays as approved, now superseded
    assert cli(db_url, "adjust", site, C1, "--line", "1", "--quantity", "350", "--reason", "reading", "--by", "x") == 0
    assert "superseded by golden:2025-06:C1:v2" in capsys.readouterr().out
    v1, v2 = (as_json(capsys, db_url, "show", site, f"golden:2025-06:C1:v{n}") for n in (1, 2))
    assert (v1["state"], v1["net"], v2["state"], v2["net"], v2["supersedes"]) == (
        "superseded",
        "79.60",
        "draft",
        "80.00",  # 350 kWh x 0.20 = 70.00 + 10.00
        C1,
    )
    log = as_json(capsys, db_url, "audit", site, "--statement", C1)
    assert [(e["actor"], e["action"]) for e in log] == [
        ("anna", "created"),
        ("anna", "reviewed"),
        ("anna", "adjusted"),
        ("anna", "reviewed"),
        ("bernd", "approved"),
        ("x", "superseded"),
    ]
    assert log[2]["detail"]["before"]["net"] == "14.50"


def test_refusals_name_what_to_do(site: str, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(db_url, "close", site, "--period", "2025-6") == 1
    assert "write it as YYYY-MM" in capsys.readouterr().err
    assert cli(db_url, "close", site, "--period", "2999-01") == 1
    assert "period 2999-01 is not over until 2999-02-01 00:00 Europe/Berlin" in capsys.readouterr().err
    assert cli(db_url, "show", site, "golden:2025-06:C9") == 1
    assert "has no statement 'golden:2025-06:C9'; list them with: bms-bridge statements" in capsys.readouterr().err
    assert cli(db_url, "statements", site, "--period", "November") == 1
    assert "--period 'November' is not a month" in capsys.readouterr().err
    assert cli(db_url, "statements", site) == 0
    assert "no statements; make them with: bms-bridge close" in capsys.readouterr().out


def test_the_console_script_exits_2_with_one_sentence(site: str, db_url: str) -> None:
    assert cli(db_url, "close", site, "--period", "2025-06") == 0
    done = subprocess.run(
        [sys.executable, "-m", "bms_bridge.cli", "--db", db_url, "approve", site, C1],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: statement {C1} is draft; it must be reviewed before you approve it (next step: review)"
    ]
