"""The BMS client against an independently written controller: bac-py, in a process of its own.

The controller (tests/bms_client/peers/bacpy_device.py) runs under the bac-py venv (`make peers`); it
refuses segmentation, answers slowly or disappears, and the client degrades as docs/bms-discovery.md and
the client's docstring say: requests sized to fit one APDU, chunks halved on an abort, short timeouts,
back-off doubling from 10 s, device health offline, and back online at the first answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bms_bridge.bms_client.client import BmsClient
from tests.bacnet.peers import require_bacpy
from tests.bms_client.conftest import PEERS, Peer, bac0_site, client_address
from tests.support.services import free_udp_port

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def bacpy_device(instance: int, port: int, *options: str) -> AsyncIterator[Peer]:
    python = require_bacpy()
    args = [str(PEERS / "bacpy_device.py"), "--port", str(port), "--device", str(instance), *options]
    proc = await asyncio.create_subprocess_exec(
        str(python), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    peer = Peer(proc, f"127.0.0.1:{port}")
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line.startswith(b"READY"):
            err = await proc.stderr.read() if proc.stderr else b""
            raise RuntimeError(f"bac-py device did not start: {line!r} {err.decode()[-2000:]}")
        yield peer
    finally:
        await peer.kill()


async def test_a_controller_that_cannot_segment_is_read_in_requests_that_fit_one_apdu() -> None:
    async with bacpy_device(7201, free_udp_port(), "--values", "40", "--no-segmentation", "--max-apdu", "206") as peer:
        site = bac0_site(peer.address, 7201, 40)  # limits left to the device's own Device object
        async with BmsClient(site, client_address(), clock=Clock()) as client:
            samples = await client.poll_once()
            reader = client.readers["bms-ahu"]
    assert reader.limits is not None and not reader.limits.segmentation and reader.limits.max_apdu == 206
    assert reader.chunk_size == 9  # (206 - 12) // 20 properties fit one 206-byte APDU
    assert len(samples) == 42 and reader.requests == 1 + 5  # the limits, then ceil(42 / 9) RPMs
    by_id = {s.point_id: s for s in samples}
    assert (by_id["av-7"].value, by_id["fan"].value, by_id["mode"].value) == (107.0, 1.0, 3.0)
    assert reader.health.online and reader.health.last_error is None


async def test_a_wrong_segmentation_override_is_corrected_by_the_controllers_abort() -> None:
    # the YAML claims segmentation and allows 200 properties a request; the controller accepts 480-byte
    # APDUs and aborts anything larger with segmentation-not-supported: 162 values (16 bytes each in the
    # answer) are halved to 81, 40, 20 per request, and 20 x 16 + 3 = 323 bytes fit
    async with bacpy_device(7202, free_udp_port(), "--values", "160", "--no-segmentation", "--max-apdu", "480") as peer:
        site = bac0_site(
            peer.address, 7202, 160, segmentation=True, max_apdu_length=1476, max_properties_per_request=200
        )
        async with BmsClient(site, client_address(), clock=Clock()) as client:
            samples = await client.poll_once()
            reader = client.readers["bms-ahu"]
            assert reader.chunk_size == 20
            again = await client.poll_once()  # the next poll starts at the size that worked
            sent = reader.requests
    assert len(samples) == 162 and len(again) == 162
    assert {s.point_id: s.value for s in again}["av-160"] == 260.0
    assert reader.health.online
    assert sent >= 9 + 9  # at least ceil(162 / 20) requests for each of the two polls


async def test_a_slow_controller_times_out_is_backed_off_and_recovers(tmp_path: Path) -> None:
    delay = tmp_path / "delay"
    delay.write_text("1.0")  # seconds before each answer: longer than the client's 0.3 s timeout
    clock = Clock()
    async with bacpy_device(7203, free_udp_port(), "--values", "40", "--delay-file", str(delay)) as peer:
        site = bac0_site(peer.address, 7203, 40, timeout=timedelta(seconds=0.3), segmentation=True,
                         max_apdu_length=1476)  # fmt: skip
        async with BmsClient(site, client_address(), clock=clock) as client:
            reader = client.readers["bms-ahu"]
            assert await client.poll_once() == []
            assert not reader.health.online and "no answer" in (reader.health.last_error or "")
            sent = reader.requests
            clock.now += timedelta(seconds=5)  # back-off is 10 s after the first failure: not asked
            assert await client.poll_once() == [] and reader.requests == sent
            clock.now += timedelta(seconds=6)  # T0 + 11 s: asked again, still too slow
            assert await client.poll_once() == [] and reader.requests > sent
            assert reader.health.consecutive_failures == 2
            sent = reader.requests
            clock.now += timedelta(seconds=15)  # T0 + 26 s: the back-off doubled to 20 s, not asked
            assert await client.poll_once() == [] and reader.requests == sent
            delay.write_text("0")  # the controller is quick again
            clock.now += timedelta(seconds=6)  # T0 + 32 s: past the 20 s
            samples = await client.poll_once()
            health = reader.health
    assert len(samples) == 42
    assert health.online and health.consecutive_failures == 0 and health.last_success == T0 + timedelta(seconds=32)


async def test_a_controller_that_disappears_goes_offline_and_comes_back() -> None:
    clock = Clock()
    port = free_udp_port()
    async with bacpy_device(7204, port, "--values", "40") as peer:
        site = bac0_site(peer.address, 7204, 40, timeout=timedelta(seconds=0.5))
        async with BmsClient(site, client_address(), clock=clock) as client:
            reader = client.readers["bms-ahu"]
            assert len(await client.poll_once()) == 42
            await peer.kill()  # the controller is gone (power cut, network down)
            clock.now += timedelta(minutes=1)
            assert await client.poll_once() == []
            gone = reader.health
            assert not gone.online and gone.last_success == T0 and gone.consecutive_failures == 1
            async with bacpy_device(7204, port, "--values", "40"):  # the same controller back at its address
                sent = reader.requests
                clock.now += timedelta(seconds=5)  # still within the 10 s back-off: not asked
                assert await client.poll_once() == [] and reader.requests == sent
                clock.now += timedelta(seconds=6)
                samples = await client.poll_once()
            back = reader.health
    assert len(samples) == 42 and {s.point_id: s.value for s in samples}["av-1"] == 101.0
    assert back.online and back.consecutive_failures == 0 and back.last_success == T0 + timedelta(seconds=71)
