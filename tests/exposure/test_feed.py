"""What the BMS is told about each point: values, virtual totals and honest status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.exposure.build import devices_of_points, exposed_points
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.points import PointStatus, PointValue
from bms_bridge.sites import open_site
from metering.exchanges import MeterExchange
from metering.health import DeviceHealth
from metering.live_virtual import live_totals
from metering.readings import Reading
from point_mapping.loader import LoadedSite

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def site(site_dir: Path) -> LoadedSite:
    return open_site(site_dir)


class Exchanges:
    """The store's recorded meter exchanges, as `live_totals` asks for them."""

    def __init__(self, *recorded: MeterExchange) -> None:
        self.recorded = recorded

    async def exchanges(self, meter_id: str) -> list[MeterExchange]:
        return [e for e in self.recorded if e.meter_id == meter_id]


async def feed_of(
    site: LoadedSite, clock: Clock, sent: list[PointValue], exchanges: Exchanges | None = None
) -> ExposureFeed:
    async def sink(values: list[PointValue]) -> None:
        sent.extend(values)

    return ExposureFeed(
        exposed_points(site, date(2026, 1, 5)),
        devices_of_points(site),
        timedelta(minutes=15),
        clock,
        sinks=[sink],
        virtual=await live_totals(site, exchanges or Exchanges()),
    )


def health(device_id: str, online: bool) -> DeviceHealth:
    return DeviceHealth(device_id, online, None, T0, None if online else "no answer", 0, 0 if online else 1, T0)


def test_descriptors_name_building_tenant_and_meter(site: LoadedSite) -> None:
    points = {p.point_id: p for p in exposed_points(site, date(2026, 1, 5))}
    assert points["a1-01.energy"].name == "Building A.Alpha GmbH.M-A1-01.a1-01.energy"
    assert points["a1-01.energy"].path == ("Mini office", "Building A", "Alpha GmbH", "M-A1-01")
    assert points["common.energy"].path[2] == "Shared"  # billed to two tenants by share
    assert points["main.energy"].path[2] == "Common areas"  # billed to nobody directly
    assert (points["main.energy"].bacnet_object, points["main.energy"].unit) == ("large-analog-value", "kWh")
    assert (points["main.power"].bacnet_object, points["main.power"].unit) == ("analog-input", "kW")
    assert points["main.power"].bacnet_instance == site.identifiers.bacnet_instance["main.power"]


async def test_virtual_totals_follow_their_inputs(site: LoadedSite) -> None:
    clock, sent = Clock(), []
    feed = await feed_of(site, clock, sent)
    await feed.on_readings([Reading("main.energy", T0, 1000.0), Reading("a1-01.energy", T0, 300.0)])
    assert feed.value_of("common.energy") is None  # a1-02 still unknown: no half-computed total
    await feed.on_readings([Reading("a1-02.energy", T0 - timedelta(minutes=1), 200.0)])
    common = feed.value_of("common.energy")
    assert common is not None
    assert common.value == pytest.approx(1000 - 300 - 200)
    assert common.timestamp == T0 - timedelta(minutes=1)  # as old as its oldest input
    assert common.status is PointStatus.OK
    assert {v.point_id for v in sent} >= {"main.energy", "a1-01.energy", "a1-02.energy", "common.energy"}


def readings_at(minutes: int, **values: float) -> list[Reading]:
    return [Reading(p.replace("_", "-") + ".energy", T0 + timedelta(minutes=minutes), v) for p, v in values.items()]


async def test_live_virtual_total_does_not_jump_at_a_sub_meter_exchange(site: LoadedSite) -> None:
    # a1-01's meter is exchanged at 10:20: the old one read 302 at the end, the new one started at 0.
    exchange = MeterExchange("M-A1-01", T0 + timedelta(minutes=20), old_final=302.0, new_initial=0.0)
    feed = await feed_of(site, Clock(), [], Exchanges(exchange))
    await feed.on_readings(readings_at(0, main=1000.0, a1_01=300.0, a1_02=200.0))
    await feed.on_readings(readings_at(30, main=1010.0, a1_01=3.0, a1_02=201.0))
    common = feed.value_of("common.energy")
    assert common is not None
    # a1-01 used (302 − 300) + (3 − 0) = 5 kWh, so common = 1010 − (300 + 5) − 201 = 504 (raw registers: 806)
    assert common.value == pytest.approx(504.0)


async def test_live_virtual_total_ignores_a_transient_zero(site: LoadedSite) -> None:
    feed = await feed_of(site, Clock(), [])
    await feed.on_readings(readings_at(0, main=1000.0, a1_01=300.0, a1_02=200.0))
    await feed.on_readings(readings_at(15, main=1004.0, a1_01=0.0, a1_02=201.0))  # brown-out read of a1-01
    common = feed.value_of("common.energy")
    assert common is not None and common.value == pytest.approx(1004 - 300 - 201)  # 503, not 803
    await feed.on_readings(readings_at(30, main=1008.0, a1_01=302.0, a1_02=202.0))
    common = feed.value_of("common.energy")
    assert common is not None and common.value == pytest.approx(1008 - 302 - 202)


async def test_offline_device_and_age_show_in_the_status(site: LoadedSite) -> None:
    clock, sent = Clock(), []
    feed = await feed_of(site, clock, sent)
    await feed.on_readings([Reading(p, T0, 10.0) for p in ("main.energy", "a1-01.energy", "a1-02.energy")])
    await feed.on_health(health("em-a1-01", online=False))
    assert feed.value_of("a1-01.energy").status is PointStatus.COMM_FAILURE  # type: ignore[union-attr]
    assert feed.value_of("common.energy").status is PointStatus.COMM_FAILURE  # type: ignore[union-attr]
    assert feed.value_of("a1-01.energy").value == 10.0  # type: ignore[union-attr]  # last value kept
    assert feed.value_of("main.energy").status is PointStatus.OK  # type: ignore[union-attr]
    await feed.on_health(health("em-a1-01", online=True))
    assert feed.value_of("a1-01.energy").status is PointStatus.OK  # type: ignore[union-attr]

    clock.now = T0 + timedelta(minutes=16)
    await feed.refresh()
    assert feed.value_of("main.energy").status is PointStatus.STALE  # type: ignore[union-attr]


async def test_late_readings_do_not_roll_the_live_value_back(site: LoadedSite) -> None:
    clock, sent = Clock(), []
    feed = await feed_of(site, clock, sent)
    await feed.on_readings([Reading("main.energy", T0, 1000.0)])
    await feed.on_readings([Reading("main.energy", T0 - timedelta(hours=1), 990.0)])  # e.g. a CSV import
    assert feed.value_of("main.energy").value == 1000.0  # type: ignore[union-attr]


async def test_out_of_service_meter(site_dir: Path, edit) -> None:  # type: ignore[no-untyped-def]
    edit(
        "meters.yaml",
        "resource: electricity, multiplier: 40}",
        "resource: electricity, multiplier: 40, out_of_service: true}",
    )
    site = open_site(site_dir)
    clock, sent = Clock(), []
    feed = await feed_of(site, clock, sent)
    await feed.refresh()
    assert feed.value_of("main.energy").status is PointStatus.OUT_OF_SERVICE  # type: ignore[union-attr]
    assert feed.value_of("a1-01.energy").status is PointStatus.NO_VALUE  # type: ignore[union-attr]
