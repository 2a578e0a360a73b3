"""`--log-format json`: one JSON object per log line, naming the site, the device and (when one point
is affected) the point; the real CLI polling real Modbus servers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.modbus.meters import meter_image
from tests.modbus.sites import meter, point, tcp_device, write_site
from tests.support.modbus_sim import modbus_sim
from tests.support.services import free_tcp_port

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "schneider-iem3155"


async def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    environment = dict(os.environ) | (env or {})
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bms_bridge.cli",
        *args,
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _write(folder: Path, partial_port: int) -> None:
    write_site(
        folder,
        devices=[
            # nothing listens here: the device does not answer at all
            tcp_device("dead", free_tcp_port(), PROFILE, timeout="200ms"),
            tcp_device("partial", partial_port, PROFILE, timeout="200ms"),
        ],
        meters=[meter("m-dead", "dead"), meter("m-partial", "partial")],
        points=[
            point("dead.energy", "m-dead", "active_energy_import"),
            point("partial.energy", "m-partial", "active_energy_import"),
            point("partial.v", "m-partial", "voltage_l1"),
        ],
    )


async def test_json_lines_name_site_device_and_point(tmp_path: Path) -> None:
    image = meter_image(PROFILE, {"active_energy_import": 1234.5, "voltage_l1": 231.0})
    # The partial meter serves its energy only: the voltage read (3027) answers exception 02.
    async with modbus_sim(holding_registers={3203: image[3][3203]}) as partial:
        _write(tmp_path, partial.port)
        code, out, err = await _cli("poll", str(tmp_path), "--once", "--json", "--log-format", "json")
    assert code == 1  # a device failed
    assert [r["point"] for r in json.loads(out)["readings"]] == ["partial.energy"]
    lines: list[dict[str, Any]] = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    assert lines and all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)
    ours = [line for line in lines if line["logger"] == "bms_bridge.modbus.device_poller"]
    warnings = {line["device"]: line for line in ours if line["level"] == "WARNING"}
    assert len(ours) == len(warnings) == 2
    dead, refused = warnings["dead"], warnings["partial"]
    assert dead["site"] == refused["site"] == "test-site"
    # what the Modbus library logs while polling the dead device names it too
    assert {line.get("device") for line in lines if line["logger"].startswith("pymodbus")} <= {"dead"}
    assert "point" not in dead  # nothing answered: the whole device, not one point
    assert dead["message"].startswith("device dead: ")
    assert refused["point"] == "partial.v"  # only the voltage block failed
    assert refused["message"].startswith("device partial: ") and "exception" in refused["message"].lower()
    assert dead["ts"].endswith("+00:00") and "T" in dead["ts"]


async def test_text_stays_the_default_and_a_wrong_format_is_a_usage_error(tmp_path: Path) -> None:
    async with modbus_sim(holding_registers={3203: [0, 0, 0, 1]}) as partial:
        _write(tmp_path, partial.port)
        code, _, err = await _cli("poll", str(tmp_path), "--once")
    assert code == 1
    warning = next(line for line in err.splitlines() if "WARNING bms_bridge.modbus.device_poller" in line)
    assert "bms_bridge.modbus.device_poller: device " in warning and not warning.startswith("{")
    code, _, err = await _cli("poll", str(tmp_path), "--once", env={"BMS_BRIDGE_LOG_FORMAT": "xml"})
    assert code == 2
    assert "log format 'xml' is not one of text, json (set by BMS_BRIDGE_LOG_FORMAT)" in err
