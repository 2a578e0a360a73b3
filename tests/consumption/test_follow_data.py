"""Intervals follow the data: late readings, backfills, exchanges and frozen periods, against SQLite.

Readings go in through `Store.insert_readings`, which marks their span dirty in the same transaction;
`refresh_dirty` recomputes exactly the slots they can change, as the service does every few minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from metering.consumption import exchange_span, refresh_dirty
from metering.counters import Delta
from metering.exchanges import MeterExchange
from metering.intervals import to_intervals
from metering.readings import Interval, Quality, Reading
from metering.store import ConsumptionStore, Store
from metering.verify import verify
from point_mapping.loader import LoadedSite
from tests.consumption.conftest import QUARTER, series

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


async def _total(store: Store, point_id: str, start: datetime, end: datetime) -> float:
    return sum(i.value for i in await store.intervals(point_id, start, end))


async def test_a_three_day_outage_is_recomputed_whole_when_the_meter_returns(site: LoadedSite, store: Store) -> None:
    # a1-01 climbs 1 kWh a quarter hour for a day, is silent 3 days, then reads 301 kWh higher.
    repo = ConsumptionStore(store)
    day = series("a1-01.energy", T0, range(0, 97))  # 0 … 96 over 24 h
    await store.insert_readings(day)
    await refresh_dirty(site, repo)
    back = T0 + timedelta(days=4)
    await store.insert_readings([Reading("a1-01.energy", back, 96 + 301), Reading("a1-01.energy", back + QUARTER, 398)])
    await refresh_dirty(site, repo)
    total = await _total(store, "a1-01.energy", T0, back + QUARTER)
    assert total == pytest.approx(96 + 301 + 1)  # every kWh the register moved, the outage included
    gap = await store.intervals("a1-01.energy", T0 + timedelta(days=1), back)
    assert len(gap) == 3 * 96 and {i.quality for i in gap} == {Quality.ESTIMATED}
    assert await verify(site, repo, T0, back + QUARTER) == []


async def test_late_readings_replace_the_estimate_and_nothing_else(site: LoadedSite, store: Store) -> None:
    # 10 kWh from 08:00 to 09:00 spread as an estimate; the hour's readings arrive late (LPWAN backlog).
    repo = ConsumptionStore(store)
    await store.insert_readings([Reading("a1-01.energy", T0, 0), Reading("a1-01.energy", T0 + 4 * QUARTER, 10)])
    await refresh_dirty(site, repo)
    assert {i.quality for i in await store.intervals("a1-01.energy", T0, T0 + 4 * QUARTER)} == {Quality.ESTIMATED}
    await store.insert_readings(series("a1-01.energy", T0 + QUARTER, [1, 2, 9]))
    await refresh_dirty(site, repo)
    got = await store.intervals("a1-01.energy", T0, T0 + 4 * QUARTER)
    assert [(i.value, i.quality) for i in got] == [
        (1, Quality.MEASURED),
        (1, Quality.MEASURED),
        (7, Quality.MEASURED),
        (1, Quality.MEASURED),
    ]
    assert await verify(site, repo, T0, T0 + 4 * QUARTER) == []


async def test_a_confirmed_glitch_removes_what_it_had_counted(site: LoadedSite, store: Store) -> None:
    # 100, 101, 102 then 50: 50 is provisional (nothing counted). When 103 arrives it is a glitch and
    # the slots after it count 102 → 103 = 1; a slot stored before the glitch was known is removed.
    repo = ConsumptionStore(store)
    await store.insert_readings(series("a1-01.energy", T0, [100, 101, 102, 50]))
    await refresh_dirty(site, repo)
    assert await _total(store, "a1-01.energy", T0, T0 + timedelta(hours=2)) == pytest.approx(2)
    await store.insert_readings([Reading("a1-01.energy", T0 + 4 * QUARTER, 103)])
    await refresh_dirty(site, repo)
    got = await store.intervals("a1-01.energy", T0, T0 + timedelta(hours=2))
    assert [i.value for i in got] == pytest.approx([1, 1, 0.5, 0.5])
    [event] = await store.events(kind="counter_fault")
    assert event.details["fault"] == "glitch" and event.details["after"] == 50


async def test_stale_rows_are_removed(site: LoadedSite, store: Store) -> None:
    repo = ConsumptionStore(store)
    stale = [Interval("a1-01.energy", T0 + k * QUARTER, 5.0) for k in range(4)]
    await store.upsert_intervals(stale)
    outcome = await repo.replace_intervals("a1-01.energy", T0, T0 + 4 * QUARTER, stale[:2])
    assert (outcome.removed, outcome.written) == (2, 0)
    assert await store.intervals("a1-01.energy", T0, T0 + 4 * QUARTER) == stale[:2]


async def test_an_exchange_recorded_later_recomputes_its_slots(site: LoadedSite, store: Store) -> None:
    # main.energy is stored in kWh behind CT 40; the meter was exchanged at 08:20 (old final 25.375,
    # new initial 0 on the dial = 1015 and 0 kWh), after which it reads 8 then 16 kWh.
    repo = ConsumptionStore(store)
    await store.insert_readings(series("main.energy", T0, [1000, 1010, 8, 16]))
    await refresh_dirty(site, repo)
    before = await _total(store, "main.energy", T0, T0 + 3 * QUARTER)
    assert before == pytest.approx(10 + 8)  # the drop is unexplained: nothing counted for 08:15-08:30
    exchange = MeterExchange("M-MAIN", T0 + 20 * timedelta(minutes=1), 25.375, 0.0, source="cli")
    assert await store.add_exchange(exchange)
    await repo.mark_dirty(exchange_span(site, "M-MAIN", exchange))
    await refresh_dirty(site, repo)
    assert await _total(store, "main.energy", T0, T0 + 3 * QUARTER) == pytest.approx(10 + 5 + 8 + 8)
    # the virtual common point that depends on it followed too
    assert await verify(site, repo, T0, T0 + 3 * QUARTER) == []


async def test_a_frozen_period_keeps_its_numbers_and_records_corrections(site: LoadedSite, store: Store) -> None:
    repo = ConsumptionStore(store)
    await store.insert_readings([Reading("a1-01.energy", T0, 0), Reading("a1-01.energy", T0 + 4 * QUARTER, 8)])
    await refresh_dirty(site, repo)
    frozen_before = await store.intervals("a1-01.energy", T0, T0 + 4 * QUARTER)
    march = (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
    assert await repo.freeze_period("2026-03", *march, by="accountant")
    assert not await repo.freeze_period("2026-03", *march)  # idempotent
    await store.insert_readings(series("a1-01.energy", T0 + QUARTER, [5, 6, 7]))  # late data
    await refresh_dirty(site, repo)
    assert await store.intervals("a1-01.energy", T0, T0 + 4 * QUARTER) == frozen_before
    corrections = await repo.corrections(period="2026-03")
    assert [
        (c.start, c.frozen.value if c.frozen else None, c.recomputed.value if c.recomputed else None)
        for c in corrections
    ] == [
        (T0, 2.0, 5.0),
        (T0 + QUARTER, 2.0, 1.0),
        (T0 + 2 * QUARTER, 2.0, 1.0),
        (T0 + 3 * QUARTER, 2.0, 1.0),
    ]
    assert await verify(site, repo, T0, T0 + 4 * QUARTER) == []


async def test_a_failed_refresh_keeps_the_spans_dirty(site: LoadedSite, store: Store) -> None:
    repo = ConsumptionStore(store)
    await store.insert_readings(series("a1-01.energy", T0, [0, 1, 2]))

    class Broken(ConsumptionStore):
        async def replace_intervals(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise OSError("disk full")

    with pytest.raises(OSError):
        await refresh_dirty(site, Broken(store))
    assert [s.point_id for s in await repo.take_dirty()] == ["a1-01.energy"]


def test_a_reading_from_year_one_costs_only_the_window() -> None:
    # One delta from 0001-01-01 to now: only the window's 96 slots are walked and stored.
    now = datetime(2026, 12, 2, tzinfo=UTC)
    delta = Delta(datetime(1, 1, 1, tzinfo=UTC), now, 1_000_000.0)
    window = (now - timedelta(days=1), now)
    intervals = to_intervals("P", [delta], window=window)
    assert len(intervals) == 96
    share = 1_000_000.0 * (15 * 60) / (now - delta.start_ts).total_seconds()
    assert intervals[0].value == pytest.approx(share) and intervals[-1].value == pytest.approx(share)


async def test_a_clock_stepped_back_by_ntp_neither_duplicates_nor_loses_consumption(
    site: LoadedSite, store: Store
) -> None:
    # A poller stamps minute readings; at 08:10 NTP steps its clock back 90 s, so the next readings are
    # stamped 08:09:30, 08:10:30 ... while the register keeps climbing 0.1 kWh a minute.
    repo = ConsumptionStore(store)
    minute = timedelta(minutes=1)
    before = [Reading("a1-01.energy", T0 + i * minute, 100 + 0.1 * i) for i in range(11)]  # 08:00 … 08:10
    stepped = [
        Reading("a1-01.energy", T0 + (11 + i) * minute - timedelta(seconds=90), 100 + 0.1 * (11 + i)) for i in range(40)
    ]  # 08:09:30 … 08:48:30, values 101.1 … 105.0
    await store.insert_readings(before + stepped)
    await refresh_dirty(site, repo)
    intervals = await store.intervals("a1-01.energy", T0, T0 + timedelta(hours=1))
    # the reading stamped 08:09:30 after the step is out of order and dropped; the register's movement
    # is still counted once: 105.0 − 100.0 = 5 kWh, never twice, never lost
    assert sum(i.value for i in intervals) == pytest.approx(105.0 - 100.0)
    assert [i.start for i in intervals] == [T0 + k * QUARTER for k in range(4)]
    assert all(i.value >= 0 for i in intervals)
    assert await verify(site, repo, T0, T0 + timedelta(hours=1)) == []


async def test_a_clock_stepped_forward_is_a_short_gap_spread_as_measured(site: LoadedSite, store: Store) -> None:
    # The clock jumps 5 minutes ahead at 08:10: one step of 6 minutes, inside a poll interval's reach.
    repo = ConsumptionStore(store)
    minute = timedelta(minutes=1)
    readings = [Reading("a1-01.energy", T0 + i * minute, 100 + 0.1 * i) for i in range(11)]
    readings += [Reading("a1-01.energy", T0 + (16 + i) * minute, 100 + 0.1 * (11 + i)) for i in range(30)]
    await store.insert_readings(readings)
    await refresh_dirty(site, repo)
    intervals = await store.intervals("a1-01.energy", T0, T0 + timedelta(hours=1))
    assert sum(i.value for i in intervals) == pytest.approx(0.1 * 40)  # 100.0 → 104.0, all of it
    assert await verify(site, repo, T0, T0 + timedelta(hours=1)) == []
