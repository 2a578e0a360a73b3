"""One suite, two backends: every test taking `store` or `backend` runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from metering.store import Store
from tests.support.services import POSTGRES_URL, require_postgres


@dataclass
class Backend:
    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def open(self, **extra: Any) -> AbstractAsyncContextManager[Store]:
        return Store.open(self.url, **self.options, **extra)


async def _drop_schema(schema: str) -> None:
    engine = create_async_engine(POSTGRES_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        # a folder that does not exist yet: opening must create it
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'state' / 'store.db'}")
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex}"  # one schema per test: tests never see each other's rows
    try:
        yield Backend("postgres", POSTGRES_URL, {"schema": schema})
    finally:
        await _drop_schema(schema)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    async with backend.open() as opened:
        yield opened
