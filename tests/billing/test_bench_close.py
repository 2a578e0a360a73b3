"""`python -m benchmarks close` runs (small, as a separate process) and prints its comparison table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_close_benchmark_prints_both_cases() -> None:
    env = {**os.environ, "BENCH_CLOSE_POINTS": "20", "BENCH_CLOSE_RUNS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "close"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # October 2025 in Berlin: 31 days, one of them 25 hours long: 745 h x 4 = 2,980 quarter hours
    assert "20 points x 2,980 quarter hours of 2025-10 = 59,600 rows" in lines
    sql = next(line for line in lines if line.startswith("plain SQL"))
    ours = next(line for line in lines if line.startswith("ours: close_period"))
    assert sql.endswith(" kWh") and ours.endswith(" EUR net")
