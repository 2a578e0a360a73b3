"""A device that answers garbage (a broken gateway, a non-Modbus service on the port) is an error
for that device only; the healthy meter beside it keeps delivering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bms_bridge.modbus.acquisition import poll_once
from tests.modbus.meters import meter_image
from tests.modbus.sites import meter, point, tcp_device, write_site
from tests.support.modbus_sim import modbus_sim


@asynccontextmanager
async def garbage_server(reply: bytes) -> AsyncIterator[int]:
    """A TCP peer that answers every request with `reply`."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(260):
                writer.write(reply)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",  # something else listens on the port
        bytes.fromhex("0001 0000 0005 01 04 02 1234"),  # a Modbus frame far too short for the read
    ],
    ids=["not-modbus", "short-frame"],
)
async def test_garbage_is_an_error_of_that_device_only(tmp_path: Path, reply: bytes) -> None:
    good = meter_image("eastron-sdm630", {"voltage_l1": 230.0, "active_energy_import": 10.0})
    async with modbus_sim(input_registers=good[4]) as healthy, garbage_server(reply) as junk_port:
        site = write_site(
            tmp_path,
            devices=[
                tcp_device("good", healthy.port, "eastron-sdm630", timeout="300ms"),
                tcp_device("junk", junk_port, "eastron-sdm630", timeout="300ms"),
            ],
            meters=[meter("g", "good"), meter("j", "junk")],
            points=[point("g.e", "g", "active_energy_import"), point("j.e", "j", "active_energy_import")],
        )
        result = await poll_once(site)
    assert {r.point_id: r.value for r in result.readings} == {"g.e": pytest.approx(10.0)}
    assert list(result.errors) == ["junk"], result.errors
    assert result.health["junk"].online is False and result.health["junk"].last_error
    assert result.health["good"].online is True
