"""PostgreSQL: readings partitioned by UTC month, partitions made ahead at start and on demand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from metering.clock import Clock
from metering.readings import Reading
from metering.store import Store
from metering.store.partitions import Partitions, month_start, next_month, partition_name
from metering.store.timecodec import to_ms
from tests.store.conftest import Backend

NOW = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)


def _at(moment: datetime) -> Clock:
    return lambda: moment


async def _partitions(store: Store) -> dict[str, str]:
    """Each partition of readings -> its bounds, as PostgreSQL states them."""
    query = text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY c.relname"
    )
    async with store.engine.connect() as conn:
        return {name: bound for name, bound in (await conn.execute(query)).all()}


async def _where(store: Store) -> list[tuple[str, int]]:
    """(partition, ts) of every reading row."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(text("SELECT tableoid::regclass::text, ts FROM readings ORDER BY ts"))
        return [(name.split(".")[-1].strip('"'), ts) for name, ts in rows.all()]


def test_month_arithmetic_in_utc() -> None:
    assert month_start(to_ms(datetime(2026, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))) == 1796083200000
    assert next_month(1796083200000) == to_ms(datetime(2027, 1, 1, tzinfo=UTC)) == 1798761600000
    assert partition_name(1796083200000) == "readings_m202612"
    # the last month a datetime can name ends at the first millisecond of year 10000
    assert next_month(to_ms(datetime(9999, 12, 1, tzinfo=UTC))) == 253402300800000
    known = Partitions()
    known.adopt([1796083200000])
    assert known.missing([1796083200000, 1798761599999]) == set()
    # far apart: only the months holding the rows, not the 3,000 between
    assert known.missing([0, 1796083200000]) == {0}


@pytest.mark.postgres
async def test_readings_table_is_partitioned_with_this_month_and_the_next_two_made_at_start(
    backend: Backend,
) -> None:
    if backend.name != "postgres":
        pytest.skip("partitioning is PostgreSQL's")
    async with backend.open(clock=_at(NOW)) as store:
        async with store.engine.connect() as conn:
            strategy = (
                await conn.execute(
                    text("SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'readings'::regclass")
                )
            ).scalar_one()
        parts = await _partitions(store)
    assert strategy == "r"  # range
    assert parts == {
        "readings_m202612": "FOR VALUES FROM ('1796083200000') TO ('1798761600000')",
        "readings_m202701": "FOR VALUES FROM ('1798761600000') TO ('1801440000000')",
        "readings_m202702": "FOR VALUES FROM ('1801440000000') TO ('1803859200000')",
    }


@pytest.mark.postgres
async def test_a_write_into_a_later_month_and_a_backfill_make_their_partitions(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("partitioning is PostgreSQL's")
    later = datetime(2027, 6, 1, 0, 0, tzinfo=UTC)  # beyond the months made ahead
    old = datetime(2019, 3, 31, 23, 59, 59, tzinfo=UTC)  # a backfill: last second of March 2019
    async with backend.open(clock=_at(NOW)) as store:
        assert await store.insert_readings([Reading("p", NOW, 1.0), Reading("p", later, 2.0)]) == 2
        assert await store.insert_readings([Reading("p", old, 0.5)]) == 1
        # written again: skipped as before (the idempotent path), nothing doubled
        assert await store.insert_readings([Reading("p", old, 9.0), Reading("p", later, 9.0)]) == 0
        where = await _where(store)
        parts = await _partitions(store)
        values = [r.value for r in await store.readings("p", old, later.replace(day=2))]
    assert where == [
        ("readings_m201903", to_ms(old)),
        ("readings_m202612", to_ms(NOW)),
        ("readings_m202706", to_ms(later)),
    ]
    assert set(parts) == {f"readings_m{m}" for m in ("201903", "202612", "202701", "202702", "202706")}
    assert values == [0.5, 1.0, 2.0]


@pytest.mark.postgres
async def test_two_stores_making_the_same_month_at_once_both_succeed(backend: Backend) -> None:
    """Two processes meeting a new month together: the advisory lock and IF NOT EXISTS let both win."""
    if backend.name != "postgres":
        pytest.skip("partitioning is PostgreSQL's")
    import asyncio

    month = datetime(2030, 5, 10, tzinfo=UTC)
    async with backend.open(clock=_at(NOW)) as one, backend.open(clock=_at(NOW)) as two:
        counts = await asyncio.gather(
            one.insert_readings([Reading("a", month, 1.0)]), two.insert_readings([Reading("b", month, 2.0)])
        )
        parts = await _partitions(one)
    assert counts == [1, 1]
    assert "readings_m203005" in parts
