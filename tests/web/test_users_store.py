"""Users, tokens, sessions and chart rows on both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bms_bridge.web.roles import Role
from bms_bridge.web.users import UserError, UserStore
from metering.readings import Interval, Quality
from metering.store.chart_rows import interval_rows, interval_sum
from tests.store.conftest import Backend, backend  # noqa: F401  (the two-backend fixture)
from tests.web.conftest import CHEAP_HASHER, Clock

T0 = datetime(2025, 6, 1, tzinfo=UTC)


async def test_users_tokens_and_sessions(backend: Backend) -> None:  # noqa: F811
    clock = Clock(T0)
    async with backend.open() as store:
        users = UserStore(store.engine, clock=clock, hasher=CHEAP_HASHER)
        ops = await users.add("ops", "long enough", Role.OPERATOR)
        await users.add("alpha", "long enough", Role.TENANT, "T1")
        with pytest.raises(UserError, match="already exists"):
            await users.add("ops", "another one", Role.ADMIN)
        assert [(u.name, u.role, u.tenant_id) for u in await users.list()] == [
            ("alpha", Role.TENANT, "T1"),
            ("ops", Role.OPERATOR, None),
        ]
        assert await users.authenticate("ops", "long enough") == ops
        assert await users.authenticate("ops", "wrong") is None
        token = await users.create_token(ops, "grafana")
        assert await users.user_for_token(token) == ops
        session_id, session = await users.create_session(ops, timedelta(hours=1))
        found = await users.session(session_id)
        assert found is not None and found.user == ops and found.csrf_token == session.csrf_token
        clock.advance(timedelta(hours=1))
        assert await users.session(session_id) is None  # expired at its expiry instant
        await users.end_session(session_id)
        async with store.engine.connect() as conn:
            stored = (await conn.exec_driver_sql("SELECT session_hash FROM web_sessions")).all()
        assert session_id not in {row[0] for row in stored}


async def test_chart_rows_and_sums(backend: Backend) -> None:  # noqa: F811
    async with backend.open() as store:
        await store.upsert_intervals(
            Interval("p", T0 + timedelta(minutes=15) * i, 0.5 * i, Quality.ESTIMATED if i == 2 else Quality.MEASURED)
            for i in range(8)
        )
        rows = await interval_rows(store, "p", T0 + timedelta(minutes=15), T0 + timedelta(hours=1))
        total = await interval_sum(store, "p", T0, T0 + timedelta(hours=1))
        empty = await interval_sum(store, "p", T0 - timedelta(days=1), T0)
    first_ms = int((T0 + timedelta(minutes=15)).timestamp() * 1000)
    assert rows == [
        (first_ms, 0.5, "measured"),
        (first_ms + 900_000, 1.0, "estimated"),
        (first_ms + 1_800_000, 1.5, "measured"),
    ]
    assert total == (3.0, 4)  # 0 + 0.5 + 1.0 + 1.5
    assert empty == (0.0, 0)


async def test_bucket_extremes(backend: Backend) -> None:  # noqa: F811
    from metering.readings import Reading
    from metering.store.chart_rows import bucket_extremes, row_span

    minute = timedelta(minutes=1)
    async with backend.open() as store:
        await store.insert_readings(
            Reading("p", T0 + minute * i, float(v)) for i, v in enumerate([5, 1, 3, 9, 2, 4, 0, 7, 6, 8])
        )
        buckets = await bucket_extremes(store, "readings", "p", T0, T0 + minute * 10, 3 * 60_000)
        span = await row_span(store, "readings", "p", T0, T0 + minute * 10)
    ms = int(T0.timestamp() * 1000)
    assert buckets == [
        (ms, ms + 120_000, 1.0, 5.0),
        (ms + 180_000, ms + 300_000, 2.0, 9.0),
        (ms + 360_000, ms + 480_000, 0.0, 7.0),
        (ms + 540_000, ms + 540_000, 8.0, 8.0),
    ]
    assert span == (10, ms, ms + 540_000)


async def test_bucket_extremes_and_rows_of_compactly_stored_values(backend: Backend) -> None:  # noqa: F811
    # 12.5 is stored as 125 tenths and 0.07 as 7 hundredths on SQLite (docs/storage.md): charts read values
    from metering.readings import Quality, Reading
    from metering.store.chart_rows import bucket_extremes, reading_rows

    minute = timedelta(minutes=1)
    async with backend.open() as store:
        await store.insert_readings(
            [
                Reading("p", T0, 12.5),
                Reading("p", T0 + minute, 0.07, Quality.MANUAL),
                Reading("p", T0 + minute * 2, 3.0),
                Reading("p", T0 + minute * 3, 1 / 3),
            ]
        )
        buckets = await bucket_extremes(store, "readings", "p", T0, T0 + minute * 4, 2 * 60_000)
        rows = await reading_rows(store, "p", T0, T0 + minute * 4)
    ms = int(T0.timestamp() * 1000)
    assert buckets == [(ms, ms + 60_000, 0.07, 12.5), (ms + 120_000, ms + 180_000, 1 / 3, 3.0)]
    assert [(v, q) for _, v, q in rows] == [
        (12.5, "measured"),
        (0.07, "manual"),
        (3.0, "measured"),
        (1 / 3, "measured"),
    ]
