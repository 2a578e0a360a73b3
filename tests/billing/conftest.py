"""Billing storage tests run on a real SQLite file and, when it answers, on PostgreSQL (a schema per test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from metering.store import Store
from tests.store.conftest import Backend, _drop_schema
from tests.support.services import POSTGRES_URL, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'billing.db'}")
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex}"
    try:
        yield Backend("postgres", POSTGRES_URL, {"schema": schema})
    finally:
        await _drop_schema(schema)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    async with backend.open() as opened:
        yield opened
