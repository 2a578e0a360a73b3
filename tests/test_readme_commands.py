"""The README's two commands on a fresh clone: `make demo` comes up, `make test` passes.

It clones the committed HEAD, so it checks what CI and a newcomer get, not the working tree. It costs a
virtualenv install (a minute or two), so it runs under `.ci/run` (or with BMS_BRIDGE_FRESH_CLONE=1) and
is skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.services import port_answers, services_required

ROOT = Path(__file__).resolve().parents[1]
DEMO_PORTS = (47808, 4840, 8081, 8080, 15020, 15021)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # a cold pip install can be slow


def _fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "BMS_BRIDGE_DB")}
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["BMS_BRIDGE_IN_FRESH_CLONE"] = "1"  # the clone's own run of this test skips itself
    env["BMS_BRIDGE_DEMO_HISTORY_DAYS"] = "2"  # the full 13 months takes minutes; the path is the same
    env["HOME"] = str(tmp_path / "home")
    return env


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if os.environ.get("BMS_BRIDGE_IN_FRESH_CLONE"):
        pytest.skip("already inside the fresh-clone test")
    if not (services_required() or os.environ.get("BMS_BRIDGE_FRESH_CLONE") == "1"):
        pytest.skip("installs a fresh virtualenv; runs under .ci/run or with BMS_BRIDGE_FRESH_CLONE=1")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    busy = [port for port in DEMO_PORTS[1:] if port_answers("127.0.0.1", port)]
    if busy:
        pytest.skip(f"the demo's ports {busy} are taken (is a demo running?)")
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    (tmp_path / "home").mkdir()
    return target


def test_make_demo_then_make_test_on_a_fresh_clone(clone: Path, tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    demo = subprocess.Popen(
        ["make", "demo"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so the whole group (make, bms-bridge) can be stopped
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 900
        assert demo.stdout is not None
        for line in demo.stdout:
            output.append(line)
            if "Ctrl-C to stop." in line or time.monotonic() > deadline:
                break
        assert any("Ctrl-C to stop." in line for line in output), "".join(output[-40:])
        assert any("OPC UA      opc.tcp://127.0.0.1:4840" in line for line in output)
        assert port_answers("127.0.0.1", 4840)  # the OPC UA server of the demo listens
        assert any("Web app     http://127.0.0.1:8080" in line for line in output)
        assert port_answers("127.0.0.1", 8080)  # and its web app
        assert (clone / "sites" / "demo" / ".state" / "bms-bridge.db").exists()
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()

    tests = subprocess.run(
        ["make", "test"],
        cwd=clone,
        env={**env, "PYTEST_ADDOPTS": "tests/point_mapping tests/cli"},  # lint + a quick part of the suite
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout
