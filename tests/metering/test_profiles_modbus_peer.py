"""Every builtin profile against a real pymodbus server, read by a pymodbus client along the read plan;
plus mbpoll (an independent Modbus implementation) reading the same registers."""

from __future__ import annotations

import asyncio
import re

import pytest
from pymodbus.client import AsyncModbusTcpClient

from metering.decoding import decode, encode
from metering.profiles import builtin_profiles
from metering.read_plan import ReadBlock, plan_profile_reads, split_block_result
from point_mapping.model.profiles import MeterProfile
from tests.support.modbus_sim import ModbusSim, modbus_sim
from tests.support.services import require_tool

# A plausible value per unit; representable in every encoding used by the builtins.
SAMPLE = {"V": 230.5, "A": 12.345, "kW": 3.25, "PF": 0.95, "Hz": 50.0, "kWh": 12345.6, "kvarh": 234.5}
SAMPLE_OTHER = {"var": 1500.0, "pulses": 123456.0, "degC": 22.5, "MWh": 1.5}


def sample(unit: str, index: int) -> float:
    base = SAMPLE.get(unit, SAMPLE_OTHER.get(unit, 1.0))
    return base + index  # distinct per register, so a swapped register shows


def expected_values(profile: MeterProfile) -> dict[str, float]:
    return {name: sample(spec.unit, i) for i, (name, spec) in enumerate(profile.registers.items())}


def server_blocks(profile: MeterProfile, values: dict[str, float]) -> dict[int, dict[int, list[int]]]:
    """Per function code, one block per planned read, zero-filled across allowed gaps."""
    blocks: dict[int, dict[int, list[int]]] = {3: {}, 4: {}}
    for block in plan_profile_reads(profile):
        words = [0] * block.count
        for name, spec in block.members:
            at = spec.address - block.address
            b, w = profile.orders(name)
            words[at : at + spec.register_count] = encode(spec, values[name], byte_order=b, word_order=w)
        blocks[block.function_code][block.address] = words
    return blocks


async def read_block(client: AsyncModbusTcpClient, sim: ModbusSim, block: ReadBlock) -> list[int]:
    read = client.read_holding_registers if block.function_code == 3 else client.read_input_registers
    response = await read(block.address, count=block.count, device_id=sim.device_id)
    assert not response.isError(), response
    return list(response.registers)


async def read_profile(sim: ModbusSim, profile: MeterProfile) -> dict[str, float | None]:
    client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2, retries=0)
    assert await client.connect()
    try:
        decoded: dict[str, float | None] = {}
        for block in plan_profile_reads(profile):
            for name, words in split_block_result(block, await read_block(client, sim, block)).items():
                b, w = profile.orders(name)
                decoded[name] = decode(profile.registers[name], words, byte_order=b, word_order=w)
        return decoded
    finally:
        client.close()


@pytest.mark.parametrize("profile_id", sorted(builtin_profiles()))
async def test_profile_reads_back_from_a_pymodbus_meter(profile_id: str) -> None:
    profile = builtin_profiles()[profile_id]
    values = expected_values(profile)
    blocks = server_blocks(profile, values)
    async with modbus_sim(holding_registers=blocks[3], input_registers=blocks[4], device_id=7) as sim:
        decoded = await read_profile(sim, profile)
        # integer registers hold the value to within one step of their scale
        tolerance = {n: max(1e-3, abs(s.scale)) for n, s in profile.registers.items()}
        assert decoded == {n: pytest.approx(v, rel=1e-6, abs=tolerance[n]) for n, v in values.items()}

        # The meter's registers change at run time; a sentinel / NaN reads as "not available".
        name, spec = next(iter(profile.registers.items()))
        b, w = profile.orders(name)
        if spec.sentinels or spec.data_type.startswith("float"):
            await sim.set_registers(spec.function_code, spec.address, encode(spec, None, byte_order=b, word_order=w))
            assert (await read_profile(sim, profile))[name] is None


async def test_read_spanning_undefined_registers_is_refused() -> None:
    # Why max_gap defaults to 0: a meter answers exception 02 for undefined addresses inside a read.
    async with modbus_sim(input_registers={0: [1, 2], 4: [3, 4]}) as sim:
        client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2, retries=0)
        assert await client.connect()
        try:
            response = await client.read_input_registers(0, count=6, device_id=sim.device_id)
            assert response.isError() and response.exception_code == 2
        finally:
            client.close()


async def mbpoll(*args: str) -> str:
    tool = require_tool("mbpoll", "mbpoll")
    process = await asyncio.create_subprocess_exec(
        tool, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    text = out.decode(errors="replace")
    assert process.returncode == 0, text
    return text


def mbpoll_value(text: str, address: int) -> float:
    found = re.search(rf"^\[{address}\]:\s+(\S+)", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


@pytest.mark.slow
async def test_mbpoll_reads_the_same_sdm630_float() -> None:
    profile = builtin_profiles()["eastron-sdm630"]
    values = expected_values(profile)
    blocks = server_blocks(profile, values)
    spec = profile.registers["active_energy_import"]
    async with modbus_sim(input_registers=blocks[4], device_id=1) as sim:
        # -0: PDU (0-based) addresses; -B: most significant word first; -t 3:float: input register float
        text = await mbpoll(
            "-m", "tcp", "-p", str(sim.port), "-a", "1", "-0", "-B", "-t", "3:float",
            "-r", str(spec.address), "-c", "1", "-1", sim.host,
        )  # fmt: skip
        assert mbpoll_value(text, spec.address) == pytest.approx(values["active_energy_import"], rel=1e-6)
        assert (await read_profile(sim, profile))["active_energy_import"] == pytest.approx(
            mbpoll_value(text, spec.address), rel=1e-7
        )


@pytest.mark.slow
async def test_mbpoll_reads_the_same_em24_lsw_first_integer() -> None:
    profile = builtin_profiles()["carlo-gavazzi-em24"]
    values = expected_values(profile)
    blocks = server_blocks(profile, values)
    spec = profile.registers["active_energy_import"]
    async with modbus_sim(input_registers=blocks[4], device_id=1) as sim:
        # Without -B mbpoll puts the least significant word first, as the EM24 does.
        text = await mbpoll(
            "-m", "tcp", "-p", str(sim.port), "-a", "1", "-0", "-t", "3:int",
            "-r", str(spec.address), "-c", "1", "-1", sim.host,
        )  # fmt: skip
        raw = mbpoll_value(text, spec.address)
        assert raw * spec.scale == pytest.approx(values["active_energy_import"])
