"""The atheris campaign in CI: each byte-level entry point fuzzed for a fixed number of runs, fixed seed.

The targets run as separate processes (libFuzzer ends its process when done), side by side. A crash
fails the test with libFuzzer's report and the input it saved; a person reruns it with
`python -m tests.fuzz.atheris_targets TARGET ARTIFACT`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Runs per target: the site loader reads a whole folder per input (~12 inputs/s), the others are cheap.
RUNS = {"registers": 20_000, "uplink": 5_000, "csv": 5_000, "yaml": 400}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("atheris") is None,
        reason="atheris is not installed (it ships wheels for Linux x86_64: pip install -e '.[dev]')",
    ),
]


def test_every_target_survives_its_runs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(name: str, runs: int) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tests.fuzz.atheris_targets", name, f"-runs={runs}", "-seed=1"]
        command.append(f"-artifact_prefix={tmp_path}/{name}-")
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    started = {name: start(name, runs) for name, runs in RUNS.items()}
    failed = {}
    for name, process in started.items():
        output, _ = process.communicate(timeout=600)
        done = f"Done {RUNS[name]} runs" in output
        if process.returncode != 0 or not done:
            failed[name] = output[-3000:]
    assert not failed, "\n\n".join(f"== {name}\n{tail}" for name, tail in failed.items())
    assert not list(tmp_path.iterdir()), "libFuzzer saved a crashing input"
