"""Energy meters in a process of their own, for the fault tests: pymodbus servers whose counters the
test starts and stops, so the registers at the first and the last poll are known exactly.

    python -m tests.faults.meter_process '{"meters": [{"port": 40123, "unit": 1, "initial_wh": 1000, "step_wh": 2}]}'

Each meter is a Schneider iEM3155 (its registers laid out by the profile; energy import an int64 in
Wh at 3203). Meters on the same port share one server. JSON lines on stdout: {"ready": {...}} once
listening, then one {"registers": {"PORT:UNIT": wh}} per command read on stdin: `go` starts counting
(every meter adds its step_wh every --tick seconds), `freeze` stops it, `read` only answers;
stdin closed ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from typing import Any

from pymodbus.server import ModbusTcpServer

from tests.modbus.meters import meter_image, sim_device

PROFILE = "schneider-iem3155"
ENERGY_ADDRESS = 3203  # active_energy_import, int64 big-endian words, Wh
VOLTAGE_L1 = 230.1
TICK_S = 0.2


def int64_words(value: int) -> list[int]:
    return [(value >> shift) & 0xFFFF for shift in (48, 32, 16, 0)]


class Meter:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.port, self.unit = int(spec["port"]), int(spec["unit"])
        self.wh, self.step = int(spec["initial_wh"]), int(spec["step_wh"])

    @property
    def key(self) -> str:
        return f"{self.port}:{self.unit}"

    def image(self) -> dict[int, dict[int, list[int]]]:
        image = meter_image(PROFILE, {"voltage_l1": VOLTAGE_L1})
        image[3][ENERGY_ADDRESS] = int64_words(self.wh)  # exact: no float on the way
        return image


async def serve(config: dict[str, Any]) -> None:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    meters = [Meter(spec) for spec in config["meters"]]
    tick = float(config.get("tick_s", TICK_S))
    servers: dict[int, ModbusTcpServer] = {}
    for port in sorted({m.port for m in meters}):
        devices = [sim_device(m.unit, m.image()) for m in meters if m.port == port]
        servers[port] = ModbusTcpServer(devices, address=("127.0.0.1", port))
        await servers[port].serve_forever(background=True)
    counting = asyncio.Event()
    lock = asyncio.Lock()  # a reply never reports a count the registers do not hold yet

    async def count() -> None:
        while True:
            await counting.wait()
            await asyncio.sleep(tick)
            async with lock:
                if not counting.is_set():
                    continue
                for m in meters:
                    m.wh += m.step
                    await servers[m.port].async_setValues(m.unit, 3, ENERGY_ADDRESS, int64_words(m.wh))

    def say(key: str, value: Any) -> None:
        print(json.dumps({key: value}), flush=True)

    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    counter = asyncio.create_task(count())
    try:
        await _listening(list(servers))
        say("ready", {m.key: m.wh for m in meters})
        while line := await reader.readline():
            command = line.strip().decode()
            async with lock:
                if command == "go":
                    counting.set()
                elif command == "freeze":
                    counting.clear()
                say("registers", {m.key: m.wh for m in meters})
    finally:
        counter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counter
        for server in servers.values():
            await server.shutdown()  # type: ignore[no-untyped-call]


async def _listening(ports: list[int]) -> None:
    for port in ports:
        for _ in range(250):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            break
        else:
            raise RuntimeError(f"meter server on port {port} did not listen")


if __name__ == "__main__":
    asyncio.run(serve(json.loads(sys.argv[1])))
