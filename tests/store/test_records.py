from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from metering.exchanges import MeterExchange
from metering.health import DeviceHealth
from metering.store import Event, Store, StoreConflict

T0 = datetime(2024, 3, 1, tzinfo=UTC)
S = timedelta(seconds=1)


async def test_health_counts_failures_and_recovers(store: Store) -> None:
    assert await store.device_health() == []
    ok = await store.record_health("em-a1", T0)
    assert ok.online and ok.last_success == T0 and ok.consecutive_failures == 0
    await store.record_health("em-a1", T0 + S, "timeout", offline_after=2)
    down = await store.record_health("em-a1", T0 + 2 * S, "timeout", offline_after=2)
    assert (down.online, down.consecutive_failures, down.error_count) == (False, 2, 2)
    assert down.last_success == T0 and down.last_error == "timeout"
    await store.record_health("gw-1", T0, "refused")
    assert await store.device_health() == [
        down,
        DeviceHealth("gw-1", False, None, T0, "refused", 1, 1, T0),
    ]
    back = await store.record_health("em-a1", T0 + 3 * S)
    assert (back.online, back.consecutive_failures, back.error_count, back.last_error) == (True, 0, 2, None)


async def test_save_health_replaces(store: Store) -> None:
    health = DeviceHealth("d", True, T0, T0, None, 0, 0, T0)
    await store.save_health(health)
    await store.save_health(DeviceHealth("d", False, T0, T0 + S, "x", 3, 3, T0 + S))
    assert [h.error_count for h in await store.device_health()] == [3]


def _event(key: str, start: datetime, *, ended_at: datetime | None = None, id: int | None = None) -> Event:
    return Event(
        kind="night_flow",
        subject="water-main",
        severity="warning",
        started_at=start,
        title="Water flows at night",
        dedup_key=key,
        details={"litres_per_hour": 42.0, "hours": [1, 2, 3]},
        energy=1.2,
        energy_unit="m3",
        cost=4.8,
        currency="EUR",
        ended_at=ended_at,
        id=id,
    )


async def test_events_are_idempotent_by_dedup_key(store: Store) -> None:
    first = await store.add_event(_event("leak:water-main:2024-03-01", T0))
    again = await store.add_event(_event("leak:water-main:2024-03-01", T0 + S))
    other = await store.add_event(_event("leak:water-main:2024-03-02", T0 + 86400 * S))
    assert first == again != other
    stored = await store.events()
    assert [e.id for e in stored] == [first, other]
    assert stored[0] == _event("leak:water-main:2024-03-01", T0, id=first)


async def test_events_filter_and_end(store: Store) -> None:
    await store.add_event(_event("a", T0))
    await store.add_event(_event("b", T0 + S, ended_at=T0 + 2 * S))
    await store.add_event(Event("hvac_conflict", "ahu-1", "alarm", T0 + 2 * S, "Heating and cooling", "c"))
    assert [e.dedup_key for e in await store.events(kind="night_flow")] == ["a", "b"]
    assert [e.dedup_key for e in await store.events(subject="ahu-1")] == ["c"]
    assert [e.dedup_key for e in await store.events(since=T0 + S, until=T0 + 2 * S)] == ["b"]
    assert [e.dedup_key for e in await store.events(limit=1)] == ["a"]
    assert await store.end_event("a", T0 + 5 * S)
    assert not await store.end_event("a", T0 + 6 * S)
    assert not await store.end_event("missing", T0)
    ended = await store.events(kind="night_flow")
    assert ended[0].ended_at == T0 + 5 * S
    plain = (await store.events(kind="hvac_conflict"))[0]
    assert (plain.details, plain.energy, plain.cost) == ({}, None, None)


def test_event_units_go_with_amounts() -> None:
    with pytest.raises(ValueError, match="energy_unit"):
        Event("k", "s", "info", T0, "t", "d", energy=1.0)
    with pytest.raises(ValueError, match="currency"):
        Event("k", "s", "info", T0, "t", "d", cost=1.0)


async def test_frames_are_remembered_once(store: Store) -> None:
    eui = "70B3D57ED0001234"
    assert await store.remember_frame(eui, 7, T0, T0 + S)
    assert not await store.remember_frame(eui, 7, T0, T0 + 2 * S)
    assert not await store.remember_frame(eui.lower(), 7, None, T0 + 3 * S)  # EUIs compare case-blind
    assert await store.remember_frame(eui, 8, None, T0 + 3 * S)
    assert await store.remember_frame("70b3d57ed0009999", 7, None, T0 + 3 * S)


async def test_frame_counter_reset_is_new_after_the_callers_cutoff(store: Store) -> None:
    eui = "70b3d57ed0001234"
    assert await store.remember_frame(eui, 0, None, T0)
    # a rejoin a day later restarts f_cnt at 0: the caller says anything older than an hour is stale
    later = T0 + timedelta(days=1)
    assert await store.remember_frame(eui, 0, None, later, replace_older_than=later - timedelta(hours=1))
    # ... and the replaced entry now holds the new receive time, so a retransmission is a duplicate
    assert not await store.remember_frame(eui, 0, None, later + S, replace_older_than=later - timedelta(hours=1))


async def test_replacements(store: Store) -> None:
    swap = MeterExchange("em-a1", T0, 12_345.6, 0.2, "meter burnt")
    assert await store.add_exchange(swap)
    assert not await store.add_exchange(swap)
    assert not await store.add_exchange(MeterExchange("em-a1", T0, 12_345.6, 0.2, "other note"))
    with pytest.raises(StoreConflict):
        await store.add_exchange(MeterExchange("em-a1", T0, 99.0, 0.2))
    later = MeterExchange("em-a1", T0 + timedelta(days=400), 5_000.0, 0.0)
    await store.add_exchange(later)
    assert await store.exchanges("em-a1") == [swap, later]
    assert await store.exchanges("em-b1") == []
