"""The store's sums per point and span (SQL, SQLite and PostgreSQL) equal the same sums taken in Python
from `intervals` (the fallback every other source gets), and both are the values as written, in
quanta of 10^-9 of the unit; registers and exchanges read in bulk equal those read point by point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing_export.source import (
    CorrectedSource,
    StoreIntervalSource,
    registers_at,
    replacements_of,
    span_sums,
)
from metering.exchanges import MeterExchange
from metering.quanta import SpanSum, to_quanta
from metering.readings import Interval, Quality, Reading
from metering.store import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SLOT = timedelta(minutes=15)


def test_quanta_are_the_written_decimals_without_the_binary_noise() -> None:
    assert to_quanta(0.25000000000004547) == 250_000_000  # 1234.56 - 1234.31 as floats
    assert to_quanta(0.0834) == 83_400_000
    assert to_quanta(24 / 288) == 83_333_333
    assert to_quanta(-0.0834) == -83_400_000
    assert to_quanta(0.0000000005) == 1  # half a quantum: away from zero, like SQLite's ROUND
    assert to_quanta(-0.0000000005) == -1


async def test_sql_sums_equal_python_sums_and_the_values_as_written(store: Store) -> None:
    values = [0.25000000000004547, 0.0834, 24 / 288, -0.0834, 1.5, 0.0]
    qualities = [Quality.MEASURED, Quality.ESTIMATED, Quality.MEASURED, Quality.CORRECTED, Quality.MEASURED]
    intervals = [Interval("a", T0 + k * SLOT, v, qualities[k % 5]) for k, v in enumerate(values)]
    intervals += [Interval("b", T0 + 5 * SLOT, 2.0)]
    await store.upsert_intervals(intervals)
    bounds = [T0, T0 + 2 * SLOT, T0 + 4 * SLOT, T0 + 8 * SLOT, T0 + 9 * SLOT]
    source = StoreIntervalSource(store)

    in_sql = await span_sums(source, ["a", "b", "nobody"], bounds)
    in_python = await span_sums(CorrectedSource(source, ()), ["a", "b", "nobody"], bounds)

    assert (
        in_sql
        == in_python
        == {
            # 0.25 + 0.0834 (estimated) | 0.083333333 + -0.0834 (corrected) | 1.5 + 0.0 | nothing
            "a": [SpanSum(333_400_000, 83_400_000), SpanSum(-66_667, -83_400_000), SpanSum(1_500_000_000, 0), None],
            "b": [None, None, SpanSum(2_000_000_000, 0), None],
            "nobody": [None, None, None, None],
        }
    )


async def test_registers_and_exchanges_in_bulk_are_those_point_by_point(store: Store) -> None:
    await store.insert_readings(
        [Reading("a", T0, 100.5), Reading("a", T0 + SLOT, 101.25), Reading("b", T0 + 2 * SLOT, 7.0)]
    )
    await store.add_exchange(MeterExchange("m1", T0 + SLOT, 101.25, 0.0))
    source = StoreIntervalSource(store)
    fallback = CorrectedSource(source, ())
    for at in (T0 - SLOT, T0, T0 + SLOT + timedelta(minutes=1), T0 + 3 * SLOT):
        bulk = await registers_at(source, ["a", "b", "nobody"], at)
        assert bulk == await registers_at(fallback, ["a", "b", "nobody"], at)
    at_end = await registers_at(source, ["a", "b", "nobody"], T0 + 3 * SLOT)
    assert {p: r.value for p, r in at_end.items()} == {"a": 101.25, "b": 7.0}
    exchanges = await replacements_of(source, ["m1", "m2"])
    assert exchanges == await replacements_of(fallback, ["m1", "m2"])
    assert [(e.meter_id, e.old_final) for e in exchanges["m1"]] == [("m1", 101.25)] and exchanges["m2"] == []
