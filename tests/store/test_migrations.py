from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from billing_export.store.schema import metadata as billing_metadata
from metering.store import default_sqlite_url, normalise_db_url
from metering.store.engine import create_engine
from metering.store.migrate import alembic_config, current_revision, head_revision
from metering.store.partitions import is_partition_name
from metering.store.schema import metadata
from tests.store.conftest import Backend

TABLES = {
    "readings",
    "intervals",
    "device_health",
    "events",
    "lpwan_frames",
    "meter_replacements",
    "billing_periods",
    "bms_trends",
    "bms_schedules",
    "export_outbox",
    "statements",
    "statement_lines",
    "audit_log",
    "users",
    "api_tokens",
    "web_sessions",
    "interval_hours",
    "interval_days",
}


def _every_table() -> MetaData:
    """The meter-data core's tables and billing's, which live in the same database and migrations."""
    combined = MetaData()
    for source in (metadata, billing_metadata):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


def _not_a_partition(name: str | None, kind: str, _parents: Any) -> bool:
    """PostgreSQL's monthly partitions of `readings` are made at run time, not described in schema.py."""
    return not (kind == "table" and name is not None and is_partition_name(name))


def _state(conn: Connection) -> tuple[str | None, set[str], list[Any]]:
    context = MigrationContext.configure(conn, opts={"include_name": _not_a_partition})
    diffs = compare_metadata(context, _every_table())
    return current_revision(conn), set(inspect(conn).get_table_names()), diffs


async def test_migrations_create_every_table_and_match_the_schema(backend: Backend) -> None:
    async with backend.open() as store, store.engine.connect() as conn:
        revision, tables, diffs = await conn.run_sync(_state)
    assert revision == head_revision() is not None
    assert tables >= TABLES | {"alembic_version"}
    # the tables the queries use are exactly what the migrations built
    assert diffs == []


async def test_reopening_is_idempotent(backend: Backend) -> None:
    for _ in range(3):
        async with backend.open() as store, store.engine.connect() as conn:
            revision, tables, _diffs = await conn.run_sync(_state)
            versions = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar_one()
        assert revision == head_revision()
        assert tables >= TABLES
        assert versions == 1


async def test_sqlite_connection_settings_and_without_rowid(tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'a.db'}")
    async with backend.open() as store, store.engine.connect() as conn:
        pragma = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
        ddl = (await conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'readings'")).scalar_one()
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 10000}
    assert "WITHOUT ROWID" in ddl


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_normalise_db_url_adds_the_async_driver(given: str, driver: str) -> None:
    assert normalise_db_url(given).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:"])
def test_normalise_db_url_rejects_what_cannot_work(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_db_url(url)


def test_default_sqlite_url_lives_in_the_state_dir(tmp_path: Path) -> None:
    url = normalise_db_url(default_sqlite_url(tmp_path / ".state"))
    assert url.drivername == "sqlite+aiosqlite"
    assert Path(url.database or "").parent == (tmp_path / ".state").resolve()


async def test_schema_is_for_postgresql_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        async with Backend("sqlite", f"sqlite:///{tmp_path / 'a.db'}", {"schema": "x"}).open():
            pass


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _upgrade_to(conn: Connection, revision: str) -> None:
    command.upgrade(alembic_config(conn), revision)


# intervals of one point over two hours of one day and one of the next (UTC): 10+20 | 5 | 7
EARLIER_INTERVALS = [
    ("P-1", 1764547200000, 10.0),  # 2025-12-01 00:00
    ("P-1", 1764548100000, 20.0),  # 00:15
    ("P-1", 1764550800000, 5.0),  # 01:00
    ("P-1", 1764633600000, 7.0),  # 2025-12-02 00:00
]


async def _prepare(backend: Backend) -> tuple[Any, str | None]:
    url = normalise_db_url(backend.url)
    if url.database and backend.name == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return url, backend.options.get("schema")


@pytest.mark.parametrize("earlier", _revisions()[:-1])
async def test_a_database_of_every_earlier_schema_upgrades_with_its_readings(backend: Backend, earlier: str) -> None:
    url, schema = await _prepare(backend)
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            if schema is not None:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.run_sync(_upgrade_to, earlier)
            if earlier < "0007":
                await conn.execute(
                    text(
                        "INSERT INTO readings (point_id, ts, value, quality, source, received_at)"
                        " VALUES ('P-1', 1764547200000, 1234.5, 'measured', 'modbus:em-1', 1764547200000)"
                    )
                )
            else:  # compact rows: the point and source as keys, tag 0 = measured from the usual source
                await conn.execute(text("INSERT INTO sources (id, name) VALUES (1, 'modbus:em-1')"))
                await conn.execute(text("INSERT INTO point_keys (id, key, source_id) VALUES (1, 'P-1', 1)"))
                await conn.execute(
                    text("INSERT INTO readings (ts, value, point, tag) VALUES (1764547200000, 1234.5, 1, 0)")
                )
            await conn.execute(
                text(
                    "INSERT INTO intervals (point_id, start, value, quality, updated_at)"
                    " VALUES (:p, :s, :v, 'measured', 0)"
                ),
                [{"p": p, "s": s, "v": v} for p, s, v in EARLIER_INTERVALS],
            )
    finally:
        await engine.dispose()
    async with backend.open() as store, store.engine.connect() as conn:
        revision, _tables, diffs = await conn.run_sync(_state)
        kept = await store.readings("P-1", datetime(2025, 12, 1, tzinfo=UTC), datetime(2025, 12, 2, tzinfo=UTC))
        hours = (
            await conn.execute(text("SELECT start, total, count, minimum, maximum FROM interval_hours ORDER BY start"))
        ).all()
        days = (
            await conn.execute(text('SELECT start, total, count, "first", "last" FROM interval_days ORDER BY start'))
        ).all()
    assert revision == head_revision()
    assert diffs == []
    assert [(r.value, r.source) for r in kept] == [(1234.5, "modbus:em-1")]
    # the roll-ups made by 0008 from the intervals already there
    assert [tuple(h) for h in hours] == [
        (1764547200000, 30.0, 2, 10.0, 20.0),
        (1764550800000, 5.0, 1, 5.0, 5.0),
        (1764633600000, 7.0, 1, 7.0, 7.0),
    ]
    assert [tuple(d) for d in days] == [
        (1764547200000, 35.0, 3, 1764547200000, 1764550800000),
        (1764633600000, 7.0, 1, 1764633600000, 1764633600000),
    ]


# (point, ts, value, quality, source): two sources on one point, every quality, a point per device
AT_0005 = [
    ("EM-1.energy", 1764547200000, 1234.5, "measured", "modbus:em-1"),
    ("EM-1.energy", 1764547260123, 1234.75, "questionable", "modbus:em-1"),
    ("EM-1.energy", 1764547320000, 1235.0, "manual", "import:caretaker.csv"),
    ("EM-2.energy", 1764547200000, 0.1, "estimated", "modbus:em-2"),
    ("EM-2.energy", 1764547200001, -3.25, "corrected", "modbus:em-2"),
    ("WAT-1.volume", 1764547200000, 470.0, "measured", "lpwan:70b3d5"),
]


async def test_readings_at_0005_upgrade_to_compact_rows_and_come_back_exactly(backend: Backend) -> None:
    url, schema = await _prepare(backend)
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            if schema is not None:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.run_sync(_upgrade_to, "0005")
            await conn.execute(
                text(
                    "INSERT INTO readings (point_id, ts, value, quality, source, received_at)"
                    " VALUES (:p, :ts, :v, :q, :s, :ts)"
                ),
                [{"p": p, "ts": ts, "v": v, "q": q, "s": s} for p, ts, v, q, s in AT_0005],
            )
    finally:
        await engine.dispose()
    async with backend.open() as store, store.engine.connect() as conn:
        revision, _tables, diffs = await conn.run_sync(_state)
        kept = [
            (r.point_id, r.ts.timestamp() * 1000, r.value, r.quality.value, r.source)
            for point in ("EM-1.energy", "EM-2.energy", "WAT-1.volume")
            for r in await store.readings(point, datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        ]
        tags = (await conn.execute(text("SELECT tag FROM readings ORDER BY point, ts"))).scalars().all()
    assert revision == head_revision()
    assert diffs == []
    assert kept == [(p, float(ts), v, q, s) for p, ts, v, q, s in AT_0005]
    # quality code | source code << 5; EM-1's usual source is the meter (2 of its 3), the caretaker's import
    # is its other one (sources.id 1: ids go by name)
    assert tags == [0, 4, 2 | 1 << 5, 1, 3, 0]
