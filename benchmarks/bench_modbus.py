"""Modbus acquisition throughput: our device pollers against a bare pymodbus loop, and RTU bus time.

    python -m benchmarks.bench_modbus

Rows, all measured side by side in one run (absolute numbers vary, ratios much less: docs/performance.md):
- 20 SDM630 units behind one local pymodbus TCP server, every profile register wanted: our pollers
  (plan, lanes, decode, point values) vs a bare pymodbus client reading the same blocks in a loop.
  The bare loop only reads; "bare + decode" also decodes every value with `metering.decoding.decode`,
  the least any client must do with the words, so our overhead beyond that is the second ratio.
- An RTU bus through a socat pty pair (if socat is installed): time per request on the lane, against
  the wire-time model (13 + 2N)·11/baud + 2·t3.5 + turnaround. A pty ignores baud, so the measured
  figure is the software's share only; the model says what a real line adds.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from benchmarks.result import Result
from bms_bridge.modbus.device_poller import DevicePoller
from bms_bridge.modbus.network import ModbusNetwork
from metering.decoding import decode, encode
from metering.profiles import builtin_profiles
from metering.read_plan import ReadBlock, plan_profile_reads, split_block_result
from point_mapping.loader import LoadedSite, load_site

PROFILE = "eastron-sdm630"
UNITS = 20
ROUNDS = 100
TURNAROUND_S = 0.005  # the fastest device turnaround of the 5-45 ms range (docs/performance.md)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sim_device(unit: int) -> SimDevice:
    profile = builtin_profiles()[PROFILE]
    blocks: list[SimData] = []
    for block in plan_profile_reads(profile):
        words = [0] * block.count
        for _, spec in block.members:
            at = spec.address - block.address
            words[at : at + spec.register_count] = encode(spec, 100.0 + unit)
        blocks.append(SimData(block.address, values=words, datatype=DataType.REGISTERS))
    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    # SDM630 values are input registers; serve the same block for holding (unused).
    return SimDevice(id=unit, simdata=(bits, list(bits), list(blocks), blocks))


def _site(folder: Path, devices: list[dict[str, Any]], buses: list[dict[str, Any]], in_flight: int) -> LoadedSite:
    profile = builtin_profiles()[PROFILE]
    doc = {
        "site": {"id": "bench", "name": "bench", "timezone": "UTC", "currency": "EUR"},
        "buses": buses,
        "devices": devices,
        "meters": [{"id": d["id"], "device": d["id"], "resource": "electricity"} for d in devices],
        "points": [
            {"id": f"{d['id']}.{name}", "meter": d["id"], "register": name}
            for d in devices
            for name in profile.registers
        ],
        "acquisition": {"max_in_flight_per_host": in_flight},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return load_site(folder, builtin_profiles())


async def _ignore(_: object) -> None:
    return None


async def _poll_rounds(site: LoadedSite, rounds: int) -> tuple[float, int, int]:
    """Seconds, requests and registers for `rounds` cycles of every device, devices concurrently."""
    network = ModbusNetwork(site.model)
    pollers = [
        DevicePoller(site.model, site.profiles, d, network.link(d), _ignore, _ignore) for d in site.model.devices
    ]
    try:
        await asyncio.gather(*(p.attempt() for p in pollers))  # connect outside the timing
        requests = registers = 0
        started = time.perf_counter()
        for _ in range(rounds):
            for outcome in await asyncio.gather(*(p.attempt() for p in pollers)):
                if outcome.errors:
                    raise RuntimeError(outcome.errors)
                requests += outcome.requests
                registers += outcome.registers
        return time.perf_counter() - started, requests, registers
    finally:
        network.close()


async def _bare_rounds(port: int, rounds: int) -> tuple[float, int, int]:
    blocks: list[ReadBlock] = plan_profile_reads(builtin_profiles()[PROFILE])
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await client.connect()
    try:
        requests = registers = 0
        started = time.perf_counter()
        for _ in range(rounds):
            for unit in range(1, UNITS + 1):
                for block in blocks:
                    response = await client.read_input_registers(block.address, count=block.count, device_id=unit)
                    if response.isError():
                        raise RuntimeError(response)
                    requests += 1
                    registers += len(response.registers)
        return time.perf_counter() - started, requests, registers
    finally:
        client.close()


async def _bare_decode_rounds(port: int, rounds: int) -> tuple[float, int, int]:
    """`_bare_rounds`, decoding every value of every answer (value by value, in the profile's orders)."""
    profile = builtin_profiles()[PROFILE]
    blocks: list[ReadBlock] = plan_profile_reads(profile)
    orders = {name: profile.orders(name) for name in profile.registers}
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await client.connect()
    try:
        requests = registers = 0
        values: dict[str, float | None] = {}
        started = time.perf_counter()
        for _ in range(rounds):
            for unit in range(1, UNITS + 1):
                for block in blocks:
                    response = await client.read_input_registers(block.address, count=block.count, device_id=unit)
                    if response.isError():
                        raise RuntimeError(response)
                    for name, words in split_block_result(block, response.registers).items():
                        byte_order, word_order = orders[name]
                        values[name] = decode(
                            profile.registers[name], words, byte_order=byte_order, word_order=word_order
                        )
                    requests += 1
                    registers += len(response.registers)
        return time.perf_counter() - started, requests, registers
    finally:
        client.close()


def _wire_time(registers: int, baud: int) -> float:
    """Modbus RTU read transaction on a real line (docs/performance.md); t3.5 fixed at 1.75 ms above 19200 baud."""
    char = 11 / baud
    t35 = 3.5 * char if baud <= 19200 else 0.00175
    return (13 + 2 * registers) * char + 2 * t35 + TURNAROUND_S


Rows = list[tuple[str, str, str]]


async def _tcp_rows(folder: Path, results: list[Result]) -> Rows:
    port = _free_port()
    server = ModbusTcpServer([_sim_device(u) for u in range(1, UNITS + 1)], address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    await asyncio.sleep(0.2)
    devices = [
        {
            "id": f"sdm-{u:02d}",
            "connection": {"kind": "modbus-tcp", "host": "127.0.0.1", "port": port, "unit": u},
            "profile": PROFILE,
        }
        for u in range(1, UNITS + 1)
    ]
    rows: list[tuple[str, str, str]] = []
    try:
        bare_s, bare_req, bare_regs = await _bare_rounds(port, ROUNDS)
        bare_rate = bare_req / bare_s
        rows.append(
            ("bare pymodbus loop, 1 connection", f"{bare_rate:,.0f} req/s", f"{bare_regs / bare_req:.1f} reg/req")
        )
        decode_s, decode_req, decode_regs = await _bare_decode_rounds(port, ROUNDS)
        decode_rate = decode_req / decode_s
        rows.append(
            (
                "bare pymodbus loop + decode, 1 connection",
                f"{decode_rate:,.0f} req/s ({decode_rate / bare_rate:.2f}x bare)",
                f"{decode_regs / decode_req:.1f} reg/req",
            )
        )
        for in_flight in (1, 4):
            site = _site(folder / f"tcp{in_flight}", devices, [], in_flight)
            ours_s, ours_req, ours_regs = await _poll_rounds(site, ROUNDS)
            rate = ours_req / ours_s
            results.append(
                Result.rate(
                    f"Modbus TCP acquisition, {UNITS} meters, {in_flight} in flight/host", rate, bare_rate, "req/s"
                )
            )
            if in_flight == 1:
                results.append(
                    Result.rate(
                        "Modbus TCP acquisition, 1 in flight, vs bare loop + decode", rate, decode_rate, "req/s"
                    )
                )
            rows.append(
                (
                    f"our pollers, {UNITS} devices, {in_flight} in flight/host",
                    f"{rate:,.0f} req/s ({rate / bare_rate:.2f}x bare, {rate / decode_rate:.2f}x bare+decode)",
                    f"{ours_regs / ours_req:.1f} reg/req, {ours_regs / ours_s:,.0f} reg/s",
                )
            )
    finally:
        await server.shutdown()
    return rows


async def _rtu_rows(folder: Path, results: list[Result]) -> Rows:
    socat = shutil.which("socat")
    if socat is None:
        results.append(Result("RTU cycle (socat pty) vs wire-time model", None, None, "", goal="socat not installed"))
        return [("RTU bus via socat pty", "skipped", "socat not installed (apt-get install socat)")]
    a, b = folder / "ttyA", folder / "ttyB"
    process = await asyncio.create_subprocess_exec(
        socat,
        f"pty,raw,echo=0,link={a}",
        f"pty,raw,echo=0,link={b}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    rows: list[tuple[str, str, str]] = []
    try:
        for _ in range(100):
            if a.exists() and b.exists():
                break
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError("socat did not create the pty pair")
        server = ModbusSerialServer([_sim_device(1)], port=str(a), framer=FramerType.RTU, baudrate=9600)
        await server.serve_forever(background=True)
        await asyncio.sleep(0.2)
        try:
            for gap_ms in (0, 5):
                bus = {
                    "id": "rs485",
                    "kind": "rtu-serial",
                    "port": str(b),
                    "baudrate": 9600,
                    "frame_gap": f"{gap_ms}ms",
                }
                device = {
                    "id": "sdm",
                    "connection": {"kind": "modbus-rtu", "bus": "rs485", "unit": 1},
                    "profile": PROFILE,
                }
                site = _site(folder / f"rtu{gap_ms}", [device], [bus], 1)
                seconds, requests, registers = await _poll_rounds(site, ROUNDS)
                per_request = seconds / requests
                mean_regs = registers / requests
                model = _wire_time(round(mean_regs), 9600)
                ms, model_ms = per_request * 1000, model * 1000
                results.append(
                    Result(
                        f"RTU cycle, pty, frame_gap {gap_ms} ms, vs 9600-baud wire time",
                        ms,
                        model_ms,
                        "ms/req",
                        ms / model_ms,
                        "software share < wire time",
                        ms < model_ms,
                    )
                )
                rows.append(
                    (
                        f"RTU pty, frame_gap {gap_ms} ms, {mean_regs:.0f} reg/req",
                        f"{per_request * 1000:.2f} ms/req measured",
                        f"model at 9600 baud {model * 1000:.1f} ms/req "
                        f"({_wire_time(2, 9600) * 1000:.1f} ms for 2 reg, {_wire_time(125, 19200) * 1000:.0f} ms "
                        "for 125 reg at 19200)",
                    )
                )
        finally:
            await server.shutdown()
    finally:
        process.terminate()
        await process.wait()
    return rows


async def _run(results: list[Result]) -> Rows:
    with tempfile.TemporaryDirectory(prefix="bench-modbus-") as tmp:
        folder = Path(tmp)
        return await _tcp_rows(folder, results) + await _rtu_rows(folder, results)


def main() -> list[Result]:
    import logging

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    results: list[Result] = []
    rows = asyncio.run(_run(results))
    header = ("modbus", "throughput / time", "batching / model")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return results


if __name__ == "__main__":
    main()
