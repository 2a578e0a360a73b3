"""`bms-bridge close --json` draws its progress bar on a terminal's stderr and keeps stdout pure JSON;
with stderr not a terminal there is no bar at all. The golden case `billing_move_out`: June 2025 has
two contracts, Alpha's C1 (net 84.10) and Beta's C2 (net 89.90)."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from bms_bridge.sites import open_site
from metering.store import ConsumptionStore, Store
from tests.billing.golden import build_site, load_into

CASE = Path(__file__).parent.parent / "fixtures" / "billing_move_out"
ROOT = Path(__file__).resolve().parents[2]


def _site(tmp_path: Path) -> tuple[Path, str]:
    folder, url = build_site(CASE, tmp_path), f"sqlite:///{tmp_path / 'cli.db'}"

    async def load() -> None:
        async with Store.open(url) as store:
            await load_into(store, json.loads((CASE / "input.json").read_text()), open_site(folder).model.site.zone)
            await ConsumptionStore(store).take_dirty()

    asyncio.run(load())
    return folder, url


def _close(folder: Path, url: str, stderr: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm"}
    command = [sys.executable, "-m", "bms_bridge.cli", "--db", url, "close", str(folder), "--period", "2025-06"]
    return subprocess.Popen([*command, "--by", "anna", "--json"], stdout=subprocess.PIPE, stderr=stderr, env=env)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal's other side closed: everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_the_bar_goes_to_the_terminal_and_stdout_stays_json(tmp_path: Path) -> None:
    folder, url = _site(tmp_path)
    leader, follower = pty.openpty()
    process = _close(folder, url, follower)
    os.close(follower)
    out, _ = process.communicate(timeout=120)
    terminal = _read_all(leader).decode(errors="replace")
    os.close(leader)
    assert process.returncode == 0, terminal
    document = json.loads(out)  # nothing but the JSON document
    assert [(s["id"], s["created"], s["net"]) for s in document["statements"]] == [
        ("golden:2025-06:C1:v1", True, "84.10"),
        ("golden:2025-06:C2:v1", True, "89.90"),
    ]
    assert "closing 2025-06" in terminal and "2/2" in terminal
    assert b"\x1b" not in out


def test_without_a_terminal_there_is_no_bar(tmp_path: Path) -> None:
    folder, url = _site(tmp_path)
    process = _close(folder, url, subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert err == b""
    assert len(json.loads(out)["statements"]) == 2
