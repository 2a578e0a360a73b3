"""`kill -9` of the running service during Modbus ingest, again and again: nothing committed is lost,
nothing is stored twice, the SQLite file stays sound, and the registers give back the consumption the
dead moments missed.

The real service (`python -m bms_bridge.cli run SITE`) polls four energy meters every 0.5 s: pymodbus
servers in two processes of their own (tests/faults/meter_process.py), counting 1-4 Wh every 0.2 s
once the test says go. Five times, at a moment drawn from a seeded random generator while readings
are flowing in, the test notes every reading row already committed and kills the service with
SIGKILL; after each kill and after each restart: `PRAGMA integrity_check` ok, no (point, ts) twice,
every noted row still there. At the end the meters stop counting, the service reads their final
registers and stops; each meter's consumption over the whole run (`bms-bridge consumption`) is then
exactly its last register minus its first, in Wh, and `bms-bridge verify` finds the stored intervals
equal to a recomputation.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from metering.store import Store
from tests.modbus.sites import meter, point, tcp_device, write_site
from tests.support.services import free_tcp_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # 6 service starts: ~1 min idle, 4 on a busy machine

ROOT = Path(__file__).resolve().parents[2]
SEED = 13
KILLS = 5
PROFILE = "schneider-iem3155"
STEPS_WH = (1, 2, 3, 4)  # per meter, every 0.2 s: at most 72 kW, under the meters' stated cap
INITIAL_WH = (1_250_000, 73_004_017, 5, 999_999_990)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class Meters:
    """One meter process (a pymodbus server per port), driven over its stdin."""

    def __init__(self, meters: list[dict[str, Any]]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.meter_process", json.dumps({"meters": meters})],
            cwd=ROOT,
            env=_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.first: dict[str, int] = self._line("ready", 30)

    def _line(self, key: str, within: float) -> dict[str, int]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"meter process exited with {self.process.wait()}")
            message = json.loads(line)
            if key in message:
                return {k: int(v) for k, v in message[key].items()}
        raise TimeoutError(f"meter process did not answer {key!r} within {within} s")

    def command(self, command: str) -> dict[str, int]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line("registers", 10)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ServiceProcess:
    """`bms-bridge run SITE` in a process of its own, its output in a log file per start."""

    def __init__(self, site: Path, db: Path, logs: Path) -> None:
        self.site, self.db, self.logs = site, db, logs
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"service-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bms_bridge.cli", "--db", f"sqlite:///{self.db}", "run", str(self.site)],
            cwd=ROOT,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(10) == -signal.SIGKILL
        self.process = None

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(60) == 0, self.output()
        self.process = None

    def ensure_running(self) -> None:
        assert self.process is not None and self.process.poll() is None, self.output()

    def output(self) -> str:
        return (self.logs / f"service-{self.starts}.log").read_text(errors="replace")[-4000:]


def committed_rows(db: Path) -> set[tuple[int, int]]:
    """(point key, ts) of every reading row a reader sees: committed, whatever the writer does next."""
    with sqlite3.connect(db, timeout=10) as conn:
        return set(conn.execute("SELECT point, ts FROM readings"))


def check_file(db: Path, kept: set[tuple[int, int]]) -> int:
    """Integrity, no duplicates, `kept` all there; returns the number of reading rows."""
    with sqlite3.connect(db, timeout=10) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        twice = conn.execute("SELECT point, ts, COUNT(*) FROM readings GROUP BY point, ts HAVING COUNT(*) > 1")
        assert twice.fetchall() == []
        rows = set(conn.execute("SELECT point, ts FROM readings"))
    lost = kept - rows
    assert not lost, f"{len(lost)} committed readings lost, e.g. {sorted(lost)[:3]}"
    return len(rows)


def wait_for_rows(db: Path, more_than: int, service: ServiceProcess, within: float = 60) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        service.ensure_running()
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=10) as conn:
                    (count,) = conn.execute("SELECT COUNT(*) FROM readings").fetchone()
            except sqlite3.OperationalError:  # schema not created yet
                count = 0
            if count > more_than:
                return int(count)
        time.sleep(0.05)
    raise AssertionError(f"no new reading stored within {within} s:\n{service.output()}")


def energy_readings(db: Path, point_id: str) -> list[float]:
    async def read() -> list[float]:
        async with Store.open(f"sqlite:///{db}") as store:
            now = datetime.now(UTC)
            return [r.value for r in await store.readings(point_id, now - timedelta(days=2), now + timedelta(days=1))]

    return asyncio.run(read())


def same_kwh(kwh: float, wh: int) -> bool:
    """A stored kWh value is the register's Wh (decoded as raw x 0.001: equal to the last bit or so)."""
    return math.isclose(kwh, wh / 1000, rel_tol=1e-12)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bms_bridge.cli", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def meters_running() -> Iterator[tuple[list[Meters], list[dict[str, Any]]]]:
    ports = [free_tcp_port(), free_tcp_port()]
    layout = [
        {"port": ports[i // 2], "unit": i % 2 + 1, "initial_wh": INITIAL_WH[i], "step_wh": STEPS_WH[i]}
        for i in range(4)
    ]
    processes = [Meters([m for m in layout if m["port"] == port]) for port in ports]
    try:
        yield processes, layout
    finally:
        for process in processes:
            process.close()


def test_kill_9_during_ingest_loses_nothing_committed_and_no_consumption(
    tmp_path: Path, meters_running: tuple[list[Meters], list[dict[str, Any]]]
) -> None:
    processes, layout = meters_running
    names = [f"m{i + 1}" for i in range(len(layout))]
    write_site(
        tmp_path / "site",
        devices=[
            tcp_device(f"dev-{n}", m["port"], PROFILE, unit=m["unit"], poll="500ms", timeout="300ms")
            for n, m in zip(names, layout, strict=True)
        ],
        meters=[meter(n, f"dev-{n}", max_per_hour=500) for n in names],
        points=[
            p
            for n in names
            for p in (point(f"{n}.energy", n, "active_energy_import"), point(f"{n}.v", n, "voltage_l1"))
        ],
    )
    db = tmp_path / "state.db"
    service = ServiceProcess(tmp_path / "site", db, tmp_path)
    first = {k: v for p in processes for k, v in p.first.items()}
    key_of = {n: f"{m['port']}:{m['unit']}" for n, m in zip(names, layout, strict=True)}

    # First start: every meter read at its first register before any of them counts.
    service.start()
    count = wait_for_rows(db, 0, service)
    deadline = time.monotonic() + 30
    while any(not energy_readings(db, f"{n}.energy") for n in names):
        assert time.monotonic() < deadline, service.output()
        time.sleep(0.1)
    for p in processes:
        p.command("go")

    chance = random.Random(SEED)
    for cycle in range(KILLS):
        count = wait_for_rows(db, count, service)  # readings are flowing in
        time.sleep(chance.uniform(0.0, 1.5))
        kept = committed_rows(db)
        service.kill()
        count = check_file(db, kept)  # after the kill, before anyone opens it for writing
        time.sleep(chance.uniform(0.0, 1.0))  # the meters go on counting while the service is down
        service.start()
        count = wait_for_rows(db, count, service)
        count = check_file(db, kept)  # after the restart, with the service writing again
        assert count > len(kept), f"cycle {cycle}: nothing new stored after the restart"

    # The end: the meters stop; once the service has read every final register, it stops cleanly.
    last = {k: v for p in processes for k, v in p.command("freeze").items()}
    deadline = time.monotonic() + 30
    while any(not same_kwh(energy_readings(db, f"{n}.energy")[-1], last[key_of[n]]) for n in names):
        assert time.monotonic() < deadline, service.output()
        time.sleep(0.1)
    kept = committed_rows(db)
    service.stop()
    check_file(db, kept)

    today = datetime.now(UTC).date()
    span = ["--from", (today - timedelta(days=1)).isoformat(), "--to", (today + timedelta(days=1)).isoformat()]
    for n in names:
        stored = energy_readings(db, f"{n}.energy")
        assert same_kwh(stored[0], first[key_of[n]]) and same_kwh(stored[-1], last[key_of[n]])
        done = cli(
            "--db", f"sqlite:///{db}", "consumption", str(tmp_path / "site"), "--point", f"{n}.energy", *span, "--json"
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        expected_wh = last[key_of[n]] - first[key_of[n]]
        assert expected_wh > 0 and result["faults"] == []
        assert round(result["total"] * 1000, 3) == expected_wh, (n, result["total"], expected_wh)
    checked = cli("--db", f"sqlite:///{db}", "verify", str(tmp_path / "site"), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert service.starts == KILLS + 1
