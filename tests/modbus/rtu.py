"""A virtual RS-485 line: a socat pty pair with a pymodbus RTU server on one end (docs/testing-peers.md)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import SimDevice


@asynccontextmanager
async def socat_process(socat: str, *addresses: str) -> AsyncIterator[None]:
    """socat joining two addresses, stopped by its pid on exit (SIGTERM, then SIGKILL)."""
    process = await asyncio.create_subprocess_exec(
        socat, *addresses, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def wait_until(ready: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if ready():
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"socat did not {what}")


@asynccontextmanager
async def pty_pair(socat: str, folder: Path) -> AsyncIterator[tuple[str, str]]:
    """Two linked pseudo-terminals (server end, client end)."""
    server_end, client_end = folder / "ttyA", folder / "ttyB"
    async with socat_process(socat, f"pty,raw,echo=0,link={server_end}", f"pty,raw,echo=0,link={client_end}"):
        await wait_until(lambda: server_end.exists() and client_end.exists(), "create the pty pair")
        yield str(server_end), str(client_end)


@asynccontextmanager
async def rtu_server(port: str, devices: Sequence[SimDevice]) -> AsyncIterator[ModbusSerialServer]:
    """Units on a serial line; a unit not in `devices` never answers, like a dead meter on RS-485."""
    served = {device.id for device in devices}

    def silence_foreign_units(sending: bool, data: bytes) -> bytes:
        # pymodbus 3.16's simulator answers exception 04 for an unknown unit (a KeyError inside SimCore,
        # so `ignore_missing_devices` does not apply); a real RS-485 unit that is gone stays silent.
        # So the answer is swallowed on its way out; an RTU frame's first byte is the unit address.
        if sending and data and data[0] not in served:
            return b""
        return data

    server = ModbusSerialServer(
        list(devices),
        port=port,
        framer=FramerType.RTU,
        baudrate=19200,
        ignore_missing_devices=True,
        trace_packet=silence_foreign_units,
    )
    await server.serve_forever(background=True)
    await asyncio.sleep(0.1)  # the serial transport opens the pty asynchronously
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            await server.shutdown()
