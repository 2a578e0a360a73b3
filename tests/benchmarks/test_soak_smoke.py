"""The soak (benchmarks/soak.py) end to end on a small site: 50 points, polled every 1.5 s for 9 s.

A real run, not a mock: the simulated meters in their own process, the service with its SQLite store,
BACnet and OPC UA servers. The full-size figures are in docs/performance.md (5,000 points, 10 minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_small_soak_loses_nothing_and_stays_on_time(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    args = ["--points", "50", "--minutes", "0.15", "--poll-interval", "1.5", "--sample-every", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    # 50 points = three SDM630 meters with all 15 registers + one with 5, on one loopback port.
    assert (report["points"], report["meters"], report["ports"]) == (50, 4, 1)
    # 9 s at 1.5 s, stopped half a cycle later: cycles at 0, 1.5, ..., 9 s = 7 per meter.
    assert report["cycles"] == report["cycles_expected"] == 4 * 7
    assert report["late_cycles"] == report["skipped_slots"] == report["missing_cycles"] == 0
    # every cycle of every meter stored whole: 50 readings per round, as many as the meters served
    assert report["stored_readings"] == report["served_readings"] == report["handed_on_readings"] == 50 * 7
    assert report["lost_readings"] == report["points_short"] == 0
    assert report["ok"] and report["failures"] == []
    assert "PASS" in done.stdout


def test_each_broken_promise_is_a_failure(tmp_path: Path) -> None:
    """The verdict of a run: memory growth, lost readings, late cycles, servers over the limit."""
    from benchmarks.soak import Report, judge

    fine = dict(
        points=50, meters=4, ports=1, minutes=1.0, poll_interval_s=60.0, simulator_start_s=1.0,
        service_start_s=1.0, rss_before_service_mib=100.0, server_libraries_mib=40.0, servers_added_mib=50.0,
        servers_limit_mib=250.0, warm_up_s=20.0, rss_after_warm_up_mib=180.0, rss_at_end_mib=185.0,
        rss_min_mib=179.0, rss_max_mib=186.0, growth_mib=5.0, growth_per_hour_mib=300.0, tolerance_mib=10.0,
        cycles=8, cycles_expected=8, late_cycles=0, missing_cycles=0, skipped_slots=0, worst_lateness_s=0.1,
        worst_start_delay_s=0.0, median_round_s=0.1,
        late_after_s=5.0, served_readings=100, handed_on_readings=100, stored_readings=100, lost_readings=0,
        points_short=0, served_during_stop=0, exceptions_served=0, warnings_logged=0, first_warnings=[],
        samples=[], failures=[],
    )  # fmt: skip
    assert judge(Report(**fine)) == []  # type: ignore[arg-type]
    broken = {
        "growth_mib": 10.5,  # 0.5 MiB over the tolerance
        "lost_readings": 15,
        "late_cycles": 1,
        "servers_added_mib": 251.0,
    }
    found = [judge(Report(**(fine | {key: value}))) for key, value in broken.items()]  # type: ignore[arg-type]
    assert found == [
        ["memory grew 10.5 MiB after warm-up (tolerance 10 MiB)"],
        ["15 readings lost (0 points short)"],
        ["1 late cycles, 0 skipped slots, 0 cycles missing"],
        ["BACnet + OPC UA servers took 251 MiB (limit 250)"],
    ]
