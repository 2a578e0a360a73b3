"""Retention of raw readings: only old readings in closed months go, never a billing register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from metering.consumption import DirtySpan
from metering.readings import Interval, Reading
from metering.store import Store
from metering.store.consumption_store import ConsumptionStore
from metering.store.pg_retention import months_to_rewrite
from metering.store.retention import prune_readings
from metering.store.timecodec import to_ms
from point_mapping.model.services import Storage

START = datetime(2025, 12, 15, tzinfo=UTC)
END = datetime(2026, 3, 15, tzinfo=UTC)
SIX_HOURS = timedelta(hours=6)
JAN, FEB, MAR = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))


def _series(point: str) -> list[Reading]:
    """A reading every 6 hours: Dec 15th-31st 68, January 124, February 112, March 1st-14th 56 (360)."""
    count = (END - START) // SIX_HOURS
    return [Reading(point, START + i * SIX_HOURS, 100.0 + i) for i in range(count)]


async def _per_month(store: Store, point: str) -> list[int]:
    rows = await store.readings(point, START, END)
    return [
        sum(1 for r in rows if (r.ts.year, r.ts.month) == month)
        for month in ((2025, 12), (2026, 1), (2026, 2), (2026, 3))
    ]


async def test_retention_keeps_open_months_registers_and_dirty_points(store: Store) -> None:
    repo = ConsumptionStore(store)
    await store.insert_readings([*_series("p"), *_series("q")])
    await repo.take_dirty()  # both recomputed ...
    await repo.mark_dirty([DirtySpan("q", JAN + timedelta(days=3), JAN + timedelta(days=4))])  # ... q not yet
    await store.upsert_intervals([Interval("p", JAN + i * timedelta(minutes=15), 0.5) for i in range(8)])
    await repo.freeze_period("2026-01", JAN, FEB)
    await repo.freeze_period("2026-02", FEB, MAR)
    assert await _per_month(store, "p") == [68, 124, 112, 56]

    # keep 30 days, on March 10th: the cut-off is February 8th, inside the second closed month
    assert await prune_readings(store, 30, datetime(2026, 3, 10, tzinfo=UTC)) == 122 + 27
    # January: its first and last reading stay; February: its first, and everything from the 8th
    assert await _per_month(store, "p") == [68, 2, 112 - 27, 56]
    kept = await store.readings("p", JAN, MAR)
    assert [r.ts for r in kept[:3]] == [JAN, FEB - SIX_HOURS, FEB]
    assert kept[3].ts == FEB + timedelta(days=7)

    # the clock moves on to April 15th: February goes too, down to its first and last reading
    assert await prune_readings(store, 30, datetime(2026, 4, 15, tzinfo=UTC)) == 85 - 2
    assert await _per_month(store, "p") == [68, 2, 2, 56]
    # December (before the first closed month) and March (open) whole; q (dirty) untouched
    assert await _per_month(store, "q") == [68, 124, 112, 56]
    # nothing else is touched: intervals and their roll-ups stay
    assert len(await store.intervals("p", JAN, FEB)) == 8
    # and a second run finds nothing more to delete
    assert await prune_readings(store, 30, datetime(2026, 4, 15, tzinfo=UTC)) == 0


async def test_without_closed_months_nothing_is_deleted(store: Store) -> None:
    await store.insert_readings(_series("p"))
    await ConsumptionStore(store).take_dirty()
    assert await prune_readings(store, 1, datetime(2030, 1, 1, tzinfo=UTC)) == 0
    assert await _per_month(store, "p") == [68, 124, 112, 56]


def test_storage_settings() -> None:
    assert Storage().raw_readings_days is None
    settings = Storage.model_validate({"raw_readings_days": 400, "retention_check": "1h"})
    assert (settings.raw_readings_days, settings.retention_check) == (400, timedelta(hours=1))
    with pytest.raises(ValidationError):
        Storage.model_validate({"raw_readings_days": 0})


async def test_local_months_keep_each_periods_registers_and_postgresql_rewrites_the_whole_utc_month(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # Billing months in Europe/Berlin (UTC+1 in winter) start an hour before the UTC months the
    # PostgreSQL partitions hold: local January is Dec 31st 23:00 UTC to Jan 31st 23:00 UTC.
    local_jan, local_feb, local_mar = (datetime(2025, 12, 31, 23, tzinfo=UTC), datetime(2026, 1, 31, 23, tzinfo=UTC),
                                       datetime(2026, 2, 28, 23, tzinfo=UTC))  # fmt: skip
    hourly = [Reading("p", START + timedelta(hours=i), float(i)) for i in range((END - START) // timedelta(hours=1))]
    repo = ConsumptionStore(store)
    await store.insert_readings([*hourly, *(Reading("q", r.ts, r.value) for r in hourly)])
    await repo.take_dirty()
    await repo.mark_dirty([DirtySpan("q", JAN, JAN + timedelta(hours=1))])
    await repo.freeze_period("2026-01", local_jan, local_feb)
    await repo.freeze_period("2026-02", local_feb, local_mar)

    with caplog.at_level("INFO", logger="metering.store.retention"):
        gone = await prune_readings(store, 30, datetime(2026, 4, 15, tzinfo=UTC))  # cut-off March 16th

    in_closed = [r for r in hourly if local_jan <= r.ts < local_mar]
    assert gone == len(in_closed) - 4
    kept = [r.ts for r in await store.readings("p", local_jan, local_mar)]
    # each period's first and last reading: the registers its consumption is billed from
    assert kept == [local_jan, local_feb - timedelta(hours=1), local_feb, local_mar - timedelta(hours=1)]
    assert len(await store.readings("p", START, END)) == len(hourly) - gone
    assert len(await store.readings("q", START, END)) == len(hourly)  # dirty: untouched
    if store.engine.dialect.name == "postgresql":
        # January's partition lies wholly inside the two closed periods: rewritten in one go; February's
        # ends an hour after local February does, so its rows went one by one
        assert "rewrote 1 month partition(s) (readings_m202601)" in caplog.text


def test_a_month_is_rewritten_only_when_wholly_closed_and_past_the_cut_off() -> None:
    jan, feb, mar, apr = (to_ms(datetime(2026, m, 1, tzinfo=UTC)) for m in (1, 2, 3, 4))
    closed = [(feb, mar), (jan, feb)]  # two touching periods, in any order
    assert months_to_rewrite([jan, feb, mar], closed, cutoff=apr) == [jan, feb]  # March is open
    assert months_to_rewrite([jan, feb], closed, cutoff=mar - 1) == [jan]  # February reaches the cut-off
    assert months_to_rewrite([jan, feb], [(jan + 1, mar)], cutoff=apr) == [feb]  # January not wholly closed
