"""The MQTT intake against the real Mosquitto on 127.0.0.1:1883, one topic prefix per test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from bms_bridge.lpwan import LpwanMqtt, StoreSink
from bms_bridge.lpwan.mqtt import is_uplink_topic
from metering.readings import Reading
from metering.store import Store
from tests.lpwan.conftest import Rig, make_rig
from tests.lpwan.messages import chirpstack_up, water_payload
from tests.lpwan.sites import WATER_EUI, write_site
from tests.support.services import MQTT_HOST, MQTT_PORT, free_tcp_port, require_mqtt

pytestmark = pytest.mark.mqtt


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


class NotifyingSink(StoreSink):
    """Stores like the default sink and wakes the test up: no polling of the database."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.stored = 0
        self._changed = asyncio.Event()

    async def put_many(self, readings: list[Reading]) -> None:
        await super().put_many(readings)
        self.stored += len(readings)
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while self.stored < count:
                await self._changed.wait()
                self._changed.clear()


@pytest.fixture
async def subscribed(tmp_path: Path, store: Store, prefix: str) -> AsyncIterator[tuple[Rig, LpwanMqtt, NotifyingSink]]:
    require_mqtt()
    mqtt = (
        f"mqtt: {{host: {MQTT_HOST}, port: {MQTT_PORT}, topic: '{prefix}/application/+/device/+/event/+', "
        f"client_id: 'bridge-{prefix}'}}\n"
    )
    sink = NotifyingSink(store)
    rig = make_rig(write_site(tmp_path / "site", mqtt=mqtt), store, sink)
    async with LpwanMqtt(rig.intake) as client:
        await asyncio.wait_for(client.connected.wait(), 10)
        yield rig, client, sink


async def _publish(prefix: str, messages: list[tuple[str, Any]]) -> None:
    async with aiomqtt.Client(MQTT_HOST, MQTT_PORT, identifier=f"pub-{prefix}") as client:
        for suffix, message in messages:
            payload = message if isinstance(message, bytes) else json.dumps(message)
            await client.publish(f"{prefix}/application/app-1/device/{WATER_EUI}/event/{suffix}", payload, qos=1)


async def test_uplinks_land_in_the_store(subscribed: tuple[Rig, LpwanMqtt, NotifyingSink], prefix: str) -> None:
    rig, client, sink = subscribed
    await _publish(
        prefix,
        [
            ("up", chirpstack_up(WATER_EUI, 5, water_payload(500, 2000), "2025-03-04T11:00:00Z")),
            ("up", chirpstack_up(WATER_EUI, 4, water_payload(400, 2000), "2025-03-04T10:45:00Z")),  # late
        ],
    )
    await sink.wait_for(4)  # two uplinks, two points each
    stored = await rig.readings("WM-1.volume")
    assert [r.ts for r in stored] == [datetime(2025, 3, 4, 10, 45, tzinfo=UTC), datetime(2025, 3, 4, 11, 0, tzinfo=UTC)]
    assert [r.value for r in stored] == pytest.approx([0.4, 0.5])
    assert client.connections == 1


async def test_bad_messages_are_counted_and_the_loop_goes_on(
    subscribed: tuple[Rig, LpwanMqtt, NotifyingSink], prefix: str
) -> None:
    rig, client, sink = subscribed
    good = chirpstack_up(WATER_EUI, 7, water_payload(700, 2000), "2025-03-04T11:30:00Z")
    await _publish(
        prefix,
        [
            ("up", b"\xff not json"),
            ("up", chirpstack_up(WATER_EUI, 6, b"\x00", "2025-03-04T11:15:00Z")),  # payload too short
            ("up", chirpstack_up("0102030405060708", 1, b"", "2025-03-04T11:15:00Z")),  # unknown device
            ("join", {"deviceInfo": {"devEui": WATER_EUI}}),  # not an uplink: skipped
            ("up", good),
            ("up", good),  # delivered twice
            ("up", chirpstack_up(WATER_EUI, 8, water_payload(800, 2000), "2025-03-04T11:45:00Z")),
        ],
    )
    # one subscription handles messages in the order published: once frame 8 is stored, all are done
    await sink.wait_for(4)
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.7, 0.8])
    stats = rig.intake.stats
    async with asyncio.timeout(10):  # frame 8 is counted after its readings are committed and remembered
        while stats.accepted < 2:  # noqa: ASYNC110 - a counter the intake bumps after the sink, no event
            await asyncio.sleep(0.01)
    assert (stats.rejected, stats.unknown_devices, stats.accepted, stats.duplicates) == (2, 1, 2, 1)
    assert client.skipped == 1 and client.errors == 0
    assert client.connected.is_set()


async def test_no_broker_keeps_retrying_without_crashing(tmp_path: Path, store: Store) -> None:
    port = free_tcp_port()  # nothing listens here
    rig = make_rig(write_site(tmp_path / "site", mqtt=f"mqtt: {{port: {port}, client_id: nobody}}\n"), store)
    async with LpwanMqtt(rig.intake, backoff_initial=0.05, backoff_max=0.1) as client:
        await asyncio.sleep(0.5)
        assert not client.connected.is_set()
        assert client.connections == 0


def test_only_up_events_are_uplinks() -> None:
    assert is_uplink_topic(f"application/a/device/{WATER_EUI}/event/up")
    assert not is_uplink_topic(f"application/a/device/{WATER_EUI}/event/status")
    assert is_uplink_topic("v3/app@ttn/devices/dev1/up")  # TTS layout


async def test_uplinks_published_while_the_service_is_down_are_stored_after_restart(
    tmp_path: Path, store: Store, prefix: str
) -> None:
    # A persistent session: the broker keeps the QoS 1 uplinks for our client id while it is away.
    require_mqtt()
    mqtt = (
        f"mqtt: {{host: {MQTT_HOST}, port: {MQTT_PORT}, topic: '{prefix}/application/+/device/+/event/+', "
        f"client_id: 'bridge-{prefix}'}}\n"
    )
    site = write_site(tmp_path / "site", mqtt=mqtt)
    sink = NotifyingSink(store)
    rig = make_rig(site, store, sink)
    async with LpwanMqtt(rig.intake) as client:
        await asyncio.wait_for(client.connected.wait(), 10)
    uplinks = [
        ("up", chirpstack_up(WATER_EUI, n, water_payload(100 * n, 2000), f"2025-03-04T{n:02d}:00:00Z"))
        for n in range(1, 11)
    ]
    await _publish(prefix, uplinks)  # nobody subscribed right now
    async with LpwanMqtt(rig.intake) as client:
        await sink.wait_for(20)  # ten uplinks, two points each
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1 * n for n in range(1, 11)])
