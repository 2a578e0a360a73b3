"""A real pymodbus TCP server on a free loopback port, serving register blocks: a meter for tests.

    async with modbus_sim(input_registers={0: [0x449A, 0x5000]}, holding_registers={3203: [0, 0, 0, 1]}) as sim:
        client = AsyncModbusTcpClient(sim.host, port=sim.port)
        ...
        await sim.set_registers(4, 0, [0x4000, 0])  # the meter's value changes

Blocks are {start address: [16-bit words]}; addresses outside every block are undefined and answer
exception 02 (illegal data address), as a real meter does. Input (function 4) and holding (function 3)
registers are separate maps (SimDevice's 4-tuple form, docs/testing-peers.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.support.services import free_tcp_port, port_answers

Blocks = Mapping[int, Sequence[int]]


@dataclass
class ModbusSim:
    host: str
    port: int
    device_id: int
    server: ModbusTcpServer

    async def set_registers(self, function_code: int, address: int, words: Sequence[int]) -> None:
        """Change registers of an existing block (3 = holding, 4 = input) while the server runs."""
        if function_code not in (3, 4):
            raise ValueError(f"function_code must be 3 (holding) or 4 (input), not {function_code}")
        await self.server.async_setValues(self.device_id, function_code, address, list(words))


def _sim_blocks(blocks: Blocks) -> list[SimData]:
    for address, words in blocks.items():
        bad = [w for w in words if not 0 <= w <= 0xFFFF]
        if bad:
            raise ValueError(f"block at {address} holds values that are not 16-bit words: {bad}")
    return [
        SimData(address, values=list(words), datatype=DataType.REGISTERS)
        for address, words in sorted(blocks.items())
        if words
    ]


@asynccontextmanager
async def modbus_sim(
    *,
    input_registers: Blocks | None = None,
    holding_registers: Blocks | None = None,
    device_id: int = 1,
) -> AsyncIterator[ModbusSim]:
    """Serve the blocks on 127.0.0.1:<free port> as unit `device_id`; stop the server on exit."""
    # SimDevice needs at least one entry in each list; one unused bit block stands for "none".
    no_bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    no_regs = [SimData(65535, datatype=DataType.INVALID)]
    device = SimDevice(
        id=device_id,
        simdata=(
            no_bits,
            list(no_bits),
            _sim_blocks(holding_registers or {}) or no_regs,
            _sim_blocks(input_registers or {}) or list(no_regs),
        ),
    )
    host, port = "127.0.0.1", free_tcp_port()
    server = ModbusTcpServer(device, address=(host, port))
    await server.serve_forever(background=True)
    try:
        for _ in range(100):
            if port_answers(host, port, timeout=0.1):
                break
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError(f"pymodbus server did not start listening on {host}:{port}")
        yield ModbusSim(host, port, device_id, server)
    finally:
        await server.shutdown()
