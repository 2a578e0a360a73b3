"""The period ledger over the meter-data core: a month frozen in local time, corrections read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from billing_export.source import CorrectedSource, StoreIntervalSource
from billing_export.store import StorePeriodLedger
from metering.readings import Interval, Quality
from metering.store import ConsumptionStore, Store

BERLIN = ZoneInfo("Europe/Berlin")
SLOT = timedelta(minutes=15)


def quarter_hours(point: str, start: datetime, count: int, value: float) -> list[Interval]:
    return [Interval(point, start + n * SLOT, value) for n in range(count)]


async def test_freeze_takes_the_local_month_and_later_changes_become_corrections(store: Store) -> None:
    repo = ConsumptionStore(store)
    ledger = StorePeriodLedger(repo, BERLIN)
    # October 2026 in Berlin: from 2026-09-30 22:00 UTC (CEST) to 2026-10-31 23:00 UTC (CET), 745 hours
    start, end = datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC)
    await repo.replace_intervals("p1", start, end, quarter_hours("p1", start, 745 * 4, 0.25))

    assert not await ledger.is_frozen("2026-10")
    await ledger.freeze("2026-10", "anna")
    await ledger.freeze("2026-10", "anna")  # again: nothing changes
    assert await ledger.is_frozen("2026-10")
    [frozen] = await repo.frozen_periods()
    assert (frozen.period, frozen.start, frozen.end) == ("2026-10", start, end)

    # a recomputation of 2026-10-10 00:00 local (22:00 UTC the day before) that differs
    late = datetime(2026, 10, 9, 22, tzinfo=UTC)
    outcome = await repo.replace_intervals("p1", late, late + SLOT, [Interval("p1", late, 0.75, Quality.ESTIMATED)])
    assert outcome.corrections == 1
    [correction] = await ledger.corrections_since("2026-10")
    assert (correction.point_id, correction.start, correction.period) == ("p1", late, "2026-10")
    assert (correction.old_value, correction.new_value, correction.new_quality) == (0.25, 0.75, Quality.ESTIMATED)
    assert await ledger.corrections_since("2026-09") == []

    # the stored interval keeps the frozen number; the corrected view shows the late one
    [kept] = await store.intervals("p1", late, late + SLOT)
    assert kept.value == 0.25
    corrected = CorrectedSource(StoreIntervalSource(store), [correction])
    day = await corrected.intervals("p1", late, late + timedelta(days=1))
    assert len(day) == 96
    assert sum(i.value for i in day) == 0.25 * 95 + 0.75


async def test_a_correction_without_a_new_interval_removes_the_slot(store: Store) -> None:
    repo = ConsumptionStore(store)
    ledger = StorePeriodLedger(repo, BERLIN)
    start = datetime(2026, 10, 31, 23, tzinfo=UTC)  # 2026-11-01 00:00 local
    await repo.replace_intervals("p1", start, start + 4 * SLOT, quarter_hours("p1", start, 4, 1.0))
    await ledger.freeze("2026-11", "anna")
    await repo.replace_intervals("p1", start, start + 4 * SLOT, quarter_hours("p1", start, 3, 1.0))
    [correction] = await ledger.corrections_since("2026-11")
    assert (correction.old_value, correction.new_value) == (1.0, None)
    corrected = CorrectedSource(StoreIntervalSource(store), [correction])
    assert [i.value for i in await corrected.intervals("p1", start, start + 4 * SLOT)] == [1.0, 1.0, 1.0]
