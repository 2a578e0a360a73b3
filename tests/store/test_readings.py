from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from metering.readings import Interval, Quality, Reading
from metering.store import Store
from tests.store.conftest import Backend

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def series(point: str, count: int, *, step: timedelta = MIN, base: float = 0.0) -> list[Reading]:
    return [Reading(point, T0 + i * step, base + i, source="test") for i in range(count)]


async def test_insert_returns_new_rows_and_reinsert_keeps_the_first_value(store: Store) -> None:
    first = series("em-a1", 5)
    assert await store.insert_readings(first) == 5
    changed = [Reading(r.point_id, r.ts, r.value + 100, Quality.CORRECTED) for r in first]
    assert await store.insert_readings([*changed, *series("em-a2", 2)]) == 2
    assert await store.readings("em-a1", T0, T0 + 10 * MIN) == first


async def test_duplicates_inside_one_batch_keep_the_first(store: Store) -> None:
    a = Reading("p", T0, 1.0)
    b = Reading("p", T0, 2.0)
    assert await store.insert_readings([a, b]) == 1
    assert await store.last_reading("p") == a


async def test_empty_insert(store: Store) -> None:
    assert await store.insert_readings([]) == 0


async def test_range_is_ordered_start_inclusive_end_exclusive(store: Store) -> None:
    rows = series("p", 10)
    await store.insert_readings(list(reversed(rows)))
    assert await store.readings("p", T0 + 2 * MIN, T0 + 5 * MIN) == rows[2:5]
    assert await store.readings("p", T0 + 20 * MIN, T0 + 30 * MIN) == []
    assert await store.readings("other", T0, T0 + 30 * MIN) == []


async def test_any_time_zone_in_aware_utc_out(store: Store) -> None:
    paris = ZoneInfo("Europe/Paris")
    local = datetime(2024, 7, 1, 14, 30, tzinfo=paris)  # 12:30 UTC in summer
    await store.insert_readings([Reading("p", local, 1.5)])
    got = await store.readings(
        "p",
        datetime(2024, 7, 1, 18, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # 12:30 UTC
        datetime(2024, 7, 1, 12, 31, tzinfo=UTC),
    )
    assert len(got) == 1
    assert got[0].ts == datetime(2024, 7, 1, 12, 30, tzinfo=UTC)
    assert got[0].ts.utcoffset() == timedelta(0)


async def test_sub_millisecond_digits_are_floored(store: Store) -> None:
    ts = T0 + timedelta(microseconds=1_999)
    await store.insert_readings([Reading("p", ts, 1.0)])
    last = await store.last_reading("p")
    assert last is not None and last.ts == T0 + timedelta(milliseconds=1)


async def test_pre_epoch_and_far_future_timestamps(store: Store) -> None:
    old = datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    future = datetime(2200, 1, 1, tzinfo=UTC)
    await store.insert_readings([Reading("p", old, 1.0), Reading("p", future, 2.0)])
    assert [r.ts for r in await store.readings("p", old, future + MIN)] == [old, future]


async def test_last_reading_last_readings_and_reading_before(store: Store) -> None:
    assert await store.last_reading("p") is None
    assert await store.last_readings() == {}
    await store.insert_readings([*series("p", 5), *series("q", 3, step=2 * MIN, base=10)])
    p_rows = series("p", 5)
    assert await store.last_reading("p") == p_rows[-1]
    latest = await store.last_readings()
    assert latest == {"p": p_rows[-1], "q": series("q", 3, step=2 * MIN, base=10)[-1]}
    assert await store.reading_before("p", T0 + 3 * MIN) == p_rows[2]
    assert await store.reading_before("p", T0 + 3 * MIN, inclusive=True) == p_rows[3]
    assert await store.reading_before("p", T0) is None


async def test_qualities_and_sources_round_trip(store: Store) -> None:
    rows = [Reading("p", T0 + i * MIN, 1.0, quality, f"src-{i}") for i, quality in enumerate(Quality)]
    await store.insert_readings(rows)
    assert await store.readings("p", T0, T0 + 60 * MIN) == rows


async def test_interval_upsert_replaces(store: Store) -> None:
    q = timedelta(minutes=15)
    first = [Interval("p", T0 + i * q, 1.0, Quality.ESTIMATED) for i in range(4)]
    assert await store.upsert_intervals(first) == 4
    redo = [Interval("p", T0 + q, 2.5), Interval("p", T0 + 2 * q, 3.5), Interval("p", T0 + 2 * q, 4.5)]
    assert await store.upsert_intervals(redo) == 2  # last one wins inside a batch
    assert await store.intervals("p", T0, T0 + 4 * q) == [first[0], redo[0], redo[2], first[3]]
    assert await store.intervals("p", T0 + q, T0 + 2 * q) == [redo[0]]
    assert await store.upsert_intervals([]) == 0


async def test_data_survive_close_and_reopen(backend: Backend) -> None:
    async with backend.open() as store:
        await store.insert_readings(series("p", 3))
        await store.upsert_intervals([Interval("p", T0, 7.0)])
    async with backend.open() as store:
        assert await store.readings("p", T0, T0 + 10 * MIN) == series("p", 3)
        assert await store.intervals("p", T0, T0 + 10 * MIN) == [Interval("p", T0, 7.0)]


async def test_readings_counted_and_paged_in_time_order(store: Store) -> None:
    await store.insert_readings(series("p", 10) + series("other", 3))
    assert await store.reading_count("p") == 10
    assert await store.reading_count("p", before=T0 + 3 * MIN) == 3  # 00:00, 00:01, 00:02
    assert await store.reading_count("p", before=T0 + 3 * MIN, inclusive=True) == 4
    page = await store.readings_page("p", 8, 5)  # past the end: what there is
    assert [r.ts for r in page] == [T0 + 8 * MIN, T0 + 9 * MIN]
    assert await store.readings_page("p", 0, 0) == []


async def test_a_point_with_several_sources_and_qualities_comes_back_as_written(store: Store) -> None:
    t0 = datetime(2025, 3, 1, 8, tzinfo=UTC)
    written = [
        Reading("P.mixed", t0, 10.5, Quality.MEASURED, "modbus:em-a1-01"),
        Reading("P.mixed", t0 + timedelta(minutes=1), 10.75, Quality.QUESTIONABLE, "modbus:em-a1-01"),
        Reading("P.mixed", t0 + timedelta(minutes=2), 11.0, Quality.MANUAL, "import:notebook.csv"),
        Reading("P.other", t0, 3.0, Quality.ESTIMATED, "import:notebook.csv"),
    ]
    assert await store.insert_readings(written[:2]) == 2
    assert await store.insert_readings(written[2:]) == 2
    assert await store.insert_readings(written) == 0  # idempotent by point and time
    got = await store.readings("P.mixed", t0, t0 + timedelta(hours=1))
    assert got == written[:3]
    assert await store.last_readings() == {"P.mixed": written[2], "P.other": written[3]}
    assert await store.readings("P.never-written", t0, t0 + timedelta(hours=1)) == []
    assert await store.reading_count("P.never-written") == 0


async def test_values_come_back_bit_for_bit_however_they_are_stored(store: Store) -> None:
    # decimals with up to 3 places are stored as whole numbers on SQLite (codes.compact); the rest as
    # they are: every one must read back as the same float (SQLite, REAL column or not, keeps no sign
    # on a zero: -0.0 comes back as 0.0, as it always did)
    values = [1234.56, 0.1, 0.30000000000000004, -3.25, 1e-9, 123456789.123, 2.0**60 + 0.5, 7.0, 0.0, 1 / 3]
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    written = [Reading("P.values", t0 + timedelta(minutes=i), v) for i, v in enumerate(values)]
    await store.insert_readings(written)
    got = await store.readings("P.values", t0, t0 + timedelta(days=1))
    assert [r.value.hex() for r in got] == [v.hex() for v in values]
