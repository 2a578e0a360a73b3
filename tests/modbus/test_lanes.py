"""Lanes give their turn back whatever the request did: answered, failed or cancelled."""

from __future__ import annotations

import asyncio

import pytest

from bms_bridge.modbus.lanes import BusLane, HostLane


async def test_host_lane_slot_comes_back_after_a_failure() -> None:
    lane = HostLane("127.0.0.1", 1)
    with pytest.raises(OSError):
        async with lane.turn():
            assert lane.in_flight == 1
            raise OSError("connection reset")
    assert lane.in_flight == 0
    async with asyncio.timeout(1), lane.turn():  # the only slot is free again
        assert (lane.requests, lane.peak_in_flight) == (2, 1)


async def test_bus_lane_is_held_through_the_frame_gap_even_after_a_failure() -> None:
    lane = BusLane("rs485", frame_gap=0.05)
    order: list[str] = []

    async def second() -> None:
        async with lane.turn():
            order.append("second")

    with pytest.raises(OSError):
        async with lane.turn():
            waiting = asyncio.create_task(second())
            await asyncio.sleep(0)
            raise OSError("no answer")
    order.append("gap over")  # the failing turn's gap has passed; only now may the next frame go
    await waiting
    assert order == ["gap over", "second"]
    assert (lane.in_flight, lane.peak_in_flight, lane.requests) == (0, 1, 2)


async def test_a_request_cancelled_while_queued_takes_no_turn() -> None:
    lane = HostLane("127.0.0.1", 1)
    async with lane.turn():
        queued = asyncio.create_task(lane.turn().__aenter__())
        await asyncio.sleep(0)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
    async with asyncio.timeout(1), lane.turn():
        assert lane.requests == 2
