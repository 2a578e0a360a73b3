"""The consumption pipeline against an SQLite store: readings in, 15-minute intervals out and stored.

Site: Europe/Berlin, so 2026-01-15 00:00 local is 2026-01-14 23:00 UTC. Stored readings are already in
kWh (M-MAIN's CT ratio 40 applied), which is how the pollers store them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bms_bridge.sites import open_site
from metering.consumption import FAULT_EVENT_KIND, ConsumptionError, point_intervals, refresh_intervals
from metering.counters import FaultKind
from metering.exchanges import MeterExchange
from metering.readings import Quality, Reading
from metering.store import ConsumptionStore, Store
from point_mapping.loader import LoadedSite
from tests.consumption.conftest import QUARTER, series

DAY_START = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)  # 2026-01-15 00:00 Berlin
DAY_END = DAY_START + timedelta(days=1)
M = timedelta(minutes=1)


async def test_a_day_of_quarter_hour_readings(site: LoadedSite, store: Store) -> None:
    # 97 readings, +10 kWh each: 96 slots of 10 kWh, 960 in all.
    await store.insert_readings(series("main.energy", DAY_START, range(1000, 1971, 10)))
    result = await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START, DAY_END)
    assert (result.unit, result.resource) == ("kWh", "electricity")
    assert len(result.intervals) == 96
    assert {(i.value, i.quality) for i in result.intervals} == {(10.0, Quality.MEASURED)}
    assert result.total == 960
    assert result.faults == ()
    assert await store.intervals("main.energy", DAY_START, DAY_END) == list(result.intervals)


async def test_readings_outside_the_range_complete_the_edge_slots(site: LoadedSite, store: Store) -> None:
    # Polls 5 min off the quarter hours, 1 kWh per minute: 22:55Z, 23:10Z, ... 00:10Z.
    # [23:00Z, 00:00Z) needs the reading before (22:55) and the first after the end (00:10).
    await store.insert_readings(series("main.energy", DAY_START - 5 * M, range(0, 76, 15)))
    result = await point_intervals(
        site, ConsumptionStore(store), "main.energy", DAY_START, DAY_START + timedelta(hours=1)
    )
    assert [i.start for i in result.intervals] == [DAY_START + k * QUARTER for k in range(4)]
    assert [i.value for i in result.intervals] == pytest.approx([15, 15, 15, 15])
    assert {i.quality for i in result.intervals} == {Quality.MEASURED}  # 15-min steps: not a gap


async def test_a_two_hour_gap_is_interpolated_and_estimated(site: LoadedSite, store: Store) -> None:
    # a1-01: 10:00 and 12:00 local (09:00Z, 11:00Z) with nothing between: 80 kWh over 8 slots = 10 each.
    start = DAY_START + timedelta(hours=10)
    readings = [
        *series("a1-01.energy", start - 2 * QUARTER, [0, 5, 10]),
        Reading("a1-01.energy", start + 8 * QUARTER, 90),
    ]
    readings.append(Reading("a1-01.energy", start + 9 * QUARTER, 96))
    await store.insert_readings(readings)
    result = await point_intervals(
        site, ConsumptionStore(store), "a1-01.energy", start - 2 * QUARTER, start + 9 * QUARTER
    )
    got = [(i.start, i.value, i.quality) for i in result.intervals]
    assert got[:2] == [(start - 2 * QUARTER, 5, Quality.MEASURED), (start - QUARTER, 5, Quality.MEASURED)]
    assert [(s, q) for s, _, q in got[2:10]] == [(start + k * QUARTER, Quality.ESTIMATED) for k in range(8)]
    assert [v for _, v, _ in got[2:10]] == pytest.approx([10] * 8)
    assert got[10] == (start + 8 * QUARTER, 6, Quality.MEASURED)
    assert result.total == pytest.approx(96)


async def test_virtual_remainder_and_missing_input(site: LoadedSite, store: Store) -> None:
    # Per slot: main 10, a1-01 3, a1-02 2 → common 10 − 3 − 2 = 5.
    # a1-02 starts an hour late, so the first 4 slots of common are missing, not computed as 10 − 3 − 0 = 7.
    await store.insert_readings(series("main.energy", DAY_START, range(0, 81, 10)))
    await store.insert_readings(series("a1-01.energy", DAY_START, range(0, 25, 3)))
    await store.insert_readings(series("a1-02.energy", DAY_START + timedelta(hours=1), [0, 2, 4, 6, 8]))
    end = DAY_START + timedelta(hours=2)
    result = await point_intervals(site, ConsumptionStore(store), "common.energy", DAY_START, end)
    assert [i.start for i in result.intervals] == [DAY_START + k * QUARTER for k in range(4, 8)]
    assert [i.value for i in result.intervals] == pytest.approx([5] * 4)
    assert [(m.start, m.point_ids) for m in result.missing] == [
        (DAY_START + k * QUARTER, ("a1-02.energy",)) for k in range(4)
    ]
    assert result.total == pytest.approx(20)
    # inputs and the virtual point are all in the interval table
    assert len(await store.intervals("main.energy", DAY_START, end)) == 8
    assert len(await store.intervals("common.energy", DAY_START, end)) == 4


async def test_virtual_inputs_are_converted_to_its_unit(
    site_dir: Path, edit: Callable[[str, str, str], Path], store: Store
) -> None:
    # a1-02 stored in Wh: 2000 Wh per slot is 2 kWh for the kWh remainder: 10 − 3 − 2 = 5.
    edit(
        "meters.yaml",
        "register: active_energy_import}\n  - id: common",
        "register: active_energy_import, unit: Wh}\n  - id: common",
    )
    site = open_site(site_dir)
    await store.insert_readings(series("main.energy", DAY_START, [0, 10]))
    await store.insert_readings(series("a1-01.energy", DAY_START, [0, 3]))
    await store.insert_readings(series("a1-02.energy", DAY_START, [0, 2000]))
    result = await point_intervals(site, ConsumptionStore(store), "common.energy", DAY_START, DAY_START + QUARTER)
    assert [i.value for i in result.intervals] == pytest.approx([5])


async def test_rollover_at_the_scaled_register_range(
    site_dir: Path, edit: Callable[[str, str, str], Path], store: Store
) -> None:
    # A 5-digit kWh register behind CT 40 wraps at 10^5 × 40 = 4,000,000 stored kWh:
    # 3,999,900 → 3,999,940 → 3,999,980 → 20 → 60 is +40 each step, no fault.
    edit("meters.yaml", "multiplier: 40}", "multiplier: 40, digits: 5}")
    site = open_site(site_dir)
    await store.insert_readings(series("main.energy", DAY_START, [3_999_900, 3_999_940, 3_999_980, 20, 60]))
    result = await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START, DAY_START + 4 * QUARTER)
    assert [i.value for i in result.intervals] == pytest.approx([40] * 4)
    assert {i.quality for i in result.intervals} == {Quality.MEASURED}
    assert result.faults == ()
    assert await store.events(kind=FAULT_EVENT_KIND) == []


async def test_drop_without_rollover_is_a_fault_recorded_once(site: LoadedSite, store: Store) -> None:
    # The same readings without `digits`: 3,999,980 → 20 is a backwards step, nothing counted for it,
    # so its slot is missing; the other three are 40 each.
    await store.insert_readings(series("main.energy", DAY_START, [3_999_900, 3_999_940, 3_999_980, 20, 60]))
    end = DAY_START + 4 * QUARTER
    result = await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START, end)
    assert [i.start for i in result.intervals] == [DAY_START, DAY_START + QUARTER, DAY_START + 3 * QUARTER]
    assert [f.fault.kind for f in result.faults] == [FaultKind.BACKWARDS]
    await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START, end)  # a re-run adds no second event
    [event] = await store.events(kind=FAULT_EVENT_KIND)
    assert (event.subject, event.severity, event.started_at) == ("main.energy", "warning", DAY_START + 3 * QUARTER)
    assert event.details == {
        "fault": "backwards",
        "meter": "M-MAIN",
        "before": 3_999_980,
        "after": 20,
        "explained": False,
    }


async def test_replacement_from_the_store_in_raw_register_units(site: LoadedSite, store: Store) -> None:
    # Raw dial: 1000 → 1010, exchange at 23:20Z (old final 1015, new initial 3), then 7; stored × 40.
    # (1015 × 40 − 40,400) + (280 − 3 × 40) = 200 + 160 = 360 kWh, manual (values written down by hand).
    await store.insert_readings(series("main.energy", DAY_START, [40_000, 40_400, 280]))
    await store.add_exchange(MeterExchange("M-MAIN", DAY_START + 20 * M, 1015, 3))
    result = await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START, DAY_START + 2 * QUARTER)
    assert [(i.value, i.quality) for i in result.intervals] == [(400, Quality.MEASURED), (360, Quality.MANUAL)]


async def test_replacement_from_the_site_yaml(
    site_dir: Path, edit: Callable[[str, str, str], Path], store: Store
) -> None:
    # The same exchange declared in YAML (23:20Z = 00:20 Berlin).
    edit(
        "meters.yaml",
        "multiplier: 40}",
        "multiplier: 40, replacements: [{at: '2026-01-15T00:20:00+01:00', old_final: 1015, new_initial: 3}]}",
    )
    site = open_site(site_dir)
    await store.insert_readings(series("main.energy", DAY_START, [40_000, 40_400, 280]))
    result = await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START, DAY_START + 2 * QUARTER)
    assert [(i.value, i.quality) for i in result.intervals] == [(400, Quality.MEASURED), (360, Quality.MANUAL)]


async def test_instantaneous_and_unknown_points_are_refused(site: LoadedSite, store: Store) -> None:
    with pytest.raises(ConsumptionError, match=r"point main.power is instantaneous \(kW\); consumption needs"):
        await point_intervals(site, ConsumptionStore(store), "main.power", DAY_START, DAY_END)
    with pytest.raises(ConsumptionError, match="unknown point 'nope'"):
        await point_intervals(site, ConsumptionStore(store), "nope", DAY_START, DAY_END)
    with pytest.raises(ValueError, match="not on a quarter hour"):
        await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_START + M, DAY_END)
    with pytest.raises(ValueError, match="not after"):
        await point_intervals(site, ConsumptionStore(store), "main.energy", DAY_END, DAY_START)


async def test_refresh_stores_every_cumulative_point(site: LoadedSite, store: Store) -> None:
    for point_id, step in (("main.energy", 10), ("a1-01.energy", 3), ("a1-02.energy", 2)):
        await store.insert_readings(series(point_id, DAY_START, range(0, 5 * step, step)))
    await store.insert_readings(series("main.power", DAY_START, [40, 41, 42, 43, 44]))
    end = DAY_START + 4 * QUARTER
    assert await refresh_intervals(site, ConsumptionStore(store), DAY_START, end) == 4 * 4  # three meters and common
    assert [i.value for i in await store.intervals("common.energy", DAY_START, end)] == pytest.approx([5] * 4)
    assert await store.intervals("main.power", DAY_START, end) == []
