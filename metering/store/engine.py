"""Async engines for the two backends, with the per-connection settings each needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from metering.store.urls import is_sqlite

# execution option set by the store on transactions that write (see _begin below)
WRITE_OPTION = "bms_bridge_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(url: URL, *, schema: str | None = None, **engine_kwargs: Any) -> AsyncEngine:
    """An engine for `url` (already normalised). `schema` selects a PostgreSQL schema via search_path."""
    if schema is not None:
        if is_sqlite(url):
            raise ValueError("a schema applies to PostgreSQL only")
        connect_args = dict(engine_kwargs.pop("connect_args", {}))
        settings = dict(connect_args.get("server_settings", {}))
        settings["search_path"] = schema
        connect_args["server_settings"] = settings
        engine_kwargs["connect_args"] = connect_args
    if not is_sqlite(url):
        # a connection the server dropped (restart, database recreated) is replaced, not reused
        engine_kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **engine_kwargs)
    if is_sqlite(url):
        configure_sqlite(engine.sync_engine)
    return engine


def create_sqlite_batch_engine(url: URL) -> Engine:
    """A plain (synchronous, stdlib sqlite3) engine on the same file and settings, for the reading
    writer's batches: a whole batch then runs in one call on one worker thread, where aiosqlite would
    hand every statement to its thread and back (six round trips a batch, each a thread wake-up)."""
    engine = create_sync_engine(url.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0)
    configure_sqlite(engine)
    return engine


def configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions start, so that DDL in a
        # migration is transactional (documented recipe for pysqlite/aiosqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the single writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; fsync at checkpoints
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
        # writer committed meanwhile; writers take the lock up front and wait on busy_timeout instead.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
