"""A PostgreSQL database dropped and recreated under a running writer is written again: the dead
connections are replaced and the schema is rebuilt, and the failure is logged once, not per attempt."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from metering.readings import Reading
from metering.store import ReadingWriter, Store
from tests.support.services import POSTGRES_URL, require_postgres

T0 = datetime(2026, 3, 1, tzinfo=UTC)

pytestmark = pytest.mark.postgres


async def _admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_writer_survives_the_database_being_dropped_and_recreated(caplog: pytest.LogCaptureFixture) -> None:
    require_postgres()
    name = f"bms_recreated_{uuid.uuid4().hex[:10]}"
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        async with Store.open(url) as store:
            async with ReadingWriter(store, retry_initial=0.01, retry_max=0.05, flush_interval=0) as writer:
                await writer.put(Reading("p", T0, 1.0))
                await writer.flush()
                await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')  # every connection of ours is killed
                await _admin(f'CREATE DATABASE "{name}"')
                with caplog.at_level(logging.WARNING, logger="metering.store.writer"):
                    await writer.put(Reading("p", T0 + timedelta(minutes=1), 2.0))
                    await asyncio.wait_for(writer.flush(), 30)
            stored = await store.readings("p", T0, T0 + timedelta(hours=1))
        assert [r.value for r in stored] == [2.0]  # the new database holds what came after
        messages = [r.getMessage() for r in caplog.records if r.name == "metering.store.writer"]
        assert len([m for m in messages if m.startswith("storing readings failed")]) <= 1
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
