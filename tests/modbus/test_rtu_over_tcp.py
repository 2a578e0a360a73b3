"""An RS-485 bus behind a transparent serial server: RTU frames tunnelled over TCP.

socat plays the serial server (TCP on one side, a pty on the other) and a pymodbus RTU server sits on
the pty, so the bytes on the wire are real RTU frames with CRCs, as a Moxa NPort in TCP-server mode
would carry them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bms_bridge.modbus.acquisition import poll_once
from tests.modbus.meters import meter_image, sim_device
from tests.modbus.rtu import rtu_server, socat_process, wait_until
from tests.modbus.sites import meter, point, rtu_device, write_site
from tests.support.services import free_tcp_port, require_tool

pytestmark = pytest.mark.slow


def listening(port: int) -> bool:
    """Whether a socket listens on the port, read from /proc so that no connection is made."""
    table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(f":{port:04X} " in line and line.split()[3] == "0A" for line in table)


@asynccontextmanager
async def serial_server(socat: str, folder: Path, port: int) -> AsyncIterator[str]:
    """socat listening on 127.0.0.1:port, bridged to a pty whose path is yielded."""
    tty = folder / "ttyS"
    # the pty is opened first, so it exists before any client connects
    async with socat_process(socat, f"pty,raw,echo=0,link={tty}", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"):
        # probing by connecting would use up socat's one accept: look at the socket table instead
        await wait_until(lambda: tty.exists() and listening(port), "start the serial server")
        yield str(tty)


async def test_units_behind_an_rtu_over_tcp_gateway(tmp_path: Path) -> None:
    socat = require_tool("socat", "socat")
    port = free_tcp_port()
    site = write_site(
        tmp_path / "site",
        buses=[{"id": "nport-1", "kind": "rtu-over-tcp", "host": "127.0.0.1", "port": port, "frame_gap": "5ms"}],
        devices=[
            rtu_device("sdm-1", "nport-1", 1, "eastron-sdm630", timeout="500ms"),
            rtu_device("sdm-2", "nport-1", 2, "eastron-sdm120", timeout="500ms"),
        ],
        meters=[meter("m1", "sdm-1", multiplier=40), meter("m2", "sdm-2")],
        points=[
            point("m1.energy", "m1", "active_energy_import"),
            point("m2.energy", "m2", "active_energy_import"),
            point("m2.voltage", "m2", "voltage_l1"),
        ],
    )
    units = [
        sim_device(1, meter_image("eastron-sdm630", {"active_energy_import": 1234.5})),
        sim_device(2, meter_image("eastron-sdm120", {"active_energy_import": 77.25, "voltage_l1": 231.5})),
    ]
    async with serial_server(socat, tmp_path, port) as tty, rtu_server(tty, units):
        result = await poll_once(site)
    assert result.errors == {}
    assert {r.point_id: r.value for r in result.readings} == {
        "m1.energy": pytest.approx(1234.5 * 40),
        "m2.energy": pytest.approx(77.25),
        "m2.voltage": pytest.approx(231.5),
    }
    assert {r.source for r in result.readings} == {"modbus:sdm-1", "modbus:sdm-2"}
