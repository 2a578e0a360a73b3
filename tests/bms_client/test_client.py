"""The BMS client against real peers in other processes: the simulated BMS and a BAC0 device."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bms_bridge.bms_client.client import BmsClient
from metering.health import DeviceHealth
from metering.trends import TrendKind, TrendSample
from tests.bms_client.conftest import bac0_site, client_address, demo_site

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_reads_the_simulated_bms_as_typed_trends(sim_bms: Callable[..., Any]) -> None:
    async with sim_bms() as peer:
        site = demo_site(peer.address)
        health: list[DeviceHealth] = []

        async def on_health(h: DeviceHealth) -> None:
            health.append(h)

        async with BmsClient(site, client_address(), health_sink=on_health, clock=Clock()) as client:
            samples = {s.point_id: s for s in await client.poll_once()}
            reader = client.readers["bms-ahu"]
    trend_points = [p for p in site.bms_points if p.object.split(",")[0] not in ("schedule", "calendar")]
    assert set(samples) == {p.id for p in trend_points}
    assert samples["ahu-a.fan"].kind is TrendKind.BINARY and samples["ahu-a.fan"].value in (0.0, 1.0)
    assert samples["ahu-a.occupancy"].kind is TrendKind.MULTISTATE and samples["ahu-a.occupancy"].value in (1.0, 2.0)
    assert samples["ahu-a.heating-valve"].kind is TrendKind.ANALOG and 0 <= samples["ahu-a.heating-valve"].value <= 100
    assert reader.limits is not None and reader.limits.segmentation and reader.limits.max_apdu == 1476
    # 33 trend points at the YAML's 25 per request: two RPMs, plus one for the device's limits
    assert reader.requests == 3
    assert health[-1].online and health[-1].device_id == "bms:bms-ahu"


async def test_schedule_and_holiday_calendar_are_decoded(sim_bms: Callable[..., Any]) -> None:
    async with sim_bms() as peer, BmsClient(demo_site(peer.address), client_address(), clock=Clock()) as client:
        schedules = await client.read_schedules()
    a, b = schedules["ahu-a.schedule"], schedules["ahu-b.schedule"]
    assert a.weekly[0] == ((time(6), True), (time(20), False))  # Monday
    assert a.weekly[5] == ((time(8), True), (time(14), False)) and b.weekly[5] == ()  # Saturday: only AHU A
    zone = a.zone
    assert b.is_exception_day(date(datetime.now(UTC).year, 12, 25))  # from the Calendar's Date_List
    assert not b.occupied(datetime(datetime.now(UTC).year, 12, 25, 10, tzinfo=zone))
    assert a.occupied(datetime(2026, 3, 2, 10, tzinfo=zone))  # a Monday morning


async def test_device_refusing_segmentation_is_read_in_chunks_that_fit(bac0_device: Callable[..., Any]) -> None:
    async with bac0_device(7101, "--values", "40", "--no-segmentation", "--max-apdu", "206") as peer:
        site = bac0_site(peer.address, 7101, 40)
        async with BmsClient(site, client_address(), clock=Clock()) as client:
            samples = await client.poll_once()
            reader = client.readers["bms-ahu"]
    assert reader.limits is not None and not reader.limits.segmentation and reader.limits.max_apdu == 206
    assert reader.chunk_size == 9  # (206 - 12) // 20 properties fit one 206-byte APDU
    assert len(samples) == 42 and reader.requests == 1 + 5  # limits + ceil(42 / 9)
    by_id = {s.point_id: s for s in samples}
    assert by_id["av-7"].value == 17.0 and by_id["fan"].value == 1.0 and by_id["mode"].value == 2.0


async def test_a_wrong_segmentation_override_is_corrected_by_the_devices_abort(bac0_device: Callable[..., Any]) -> None:
    # the YAML claims segmentation; the BAC0 device refuses it: an answer of 160 values does not fit
    # one 1476-byte datagram, so the device aborts and the client halves its chunks until they fit
    async with bac0_device(7102, "--values", "160", "--no-segmentation") as peer:
        site = bac0_site(
            peer.address, 7102, 160, segmentation=True, max_apdu_length=1476, max_properties_per_request=200
        )
        async with BmsClient(site, client_address(), clock=Clock()) as client:
            samples = await client.poll_once()
            reader = client.readers["bms-ahu"]
    assert len(samples) == 162
    assert reader.chunk_size is not None and reader.chunk_size < 162


async def test_slow_device_times_out_and_backs_off(sim_bms: Callable[..., Any]) -> None:
    clock = Clock()
    async with sim_bms("--delay", "1.5") as peer:
        site = demo_site(peer.address, timeout=timedelta(seconds=0.3), max_apdu_length=1476, segmentation=True)
        async with BmsClient(site, client_address(), clock=clock) as client:
            reader = client.readers["bms-ahu"]
            assert await client.poll_once() == []
            assert not reader.health.online and "no answer" in (reader.health.last_error or "")
            sent = reader.requests
            clock.now += timedelta(seconds=5)  # back-off is 10 s after the first failure
            assert await client.poll_once() == [] and reader.requests == sent
            clock.now += timedelta(seconds=6)
            await client.poll_once()
            assert reader.requests > sent and reader.health.consecutive_failures == 2
    # the same device with a timeout longer than its delay answers
    async with sim_bms("--delay", "0.5") as peer:
        site = demo_site(peer.address, timeout=timedelta(seconds=3))
        async with BmsClient(site, client_address(), clock=clock) as client:
            assert len(await client.poll_once()) == 33


async def test_device_that_disappears_goes_offline(sim_bms: Callable[..., Any]) -> None:
    clock = Clock()
    async with sim_bms() as peer:
        site = demo_site(peer.address, timeout=timedelta(seconds=0.5))
        async with BmsClient(site, client_address(), clock=clock) as client:
            assert len(await client.poll_once()) == 33
            await peer.kill()
            clock.now += timedelta(minutes=1)
            assert await client.poll_once() == []
            health = client.readers["bms-ahu"].health
    assert not health.online and health.last_success == T0 and health.consecutive_failures == 1


async def test_cov_subscriptions_are_renewed_before_their_lifetime_ends(sim_bms: Callable[..., Any]) -> None:
    clock = Clock()
    received: list[TrendSample] = []

    async def sink(samples: list[TrendSample]) -> None:
        received.extend(samples)

    async with sim_bms("--update-every", "0.5") as peer:
        site = demo_site(peer.address, cov_lifetime=timedelta(minutes=10))
        async with BmsClient(site, client_address(), sink=sink, clock=clock) as client:
            first = await client.maintain_cov()
            # the simulated multistate values have no COV criteria in bacpypes3: refused, polled instead
            refused = {s.point_id for s in client.cov if s.refused}
            assert refused == {"ahu-a.occupancy", "ahu-b.occupancy"}
            assert first == 31
            for _ in range(100):  # the initial notification of each subscription (13.14.1.1)
                if client.notifications >= first:
                    break
                await asyncio.sleep(0.05)
            assert client.notifications >= first
            clock.now += timedelta(minutes=7)  # 70 % of the lifetime: not yet due
            assert await client.maintain_cov() == 0
            clock.now += timedelta(minutes=1)  # 80 %: renewed, before the device drops them at 100 %
            assert await client.maintain_cov() == 31
            assert {s.renewals for s in client.cov if not s.refused} == {1}
            # covered points are not polled; the refused ones still are
            polled = {s.point_id for s in await client.poll_once()}
            assert polled == refused
    assert {s.point_id for s in received} >= {"ahu-a.heating-valve", "ahu-a.fan"}
