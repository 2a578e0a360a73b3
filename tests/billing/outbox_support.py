"""Helpers for the outbox and delivery tests: a store on either backend, statements a person can read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from billing_export.outbox import OutboxInput
from metering.store import Store
from tests.store.conftest import Backend, _drop_schema
from tests.support.services import POSTGRES_URL, require_postgres

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@asynccontextmanager
async def backend_named(name: str, tmp_path: Path) -> AsyncIterator[Backend]:
    """SQLite in a file under tmp_path, or a PostgreSQL schema of its own dropped afterwards."""
    if name == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'state' / 'store.db'}")
        return
    import uuid

    require_postgres()
    schema = f"t_{uuid.uuid4().hex}"
    try:
        yield Backend("postgres", POSTGRES_URL, {"schema": schema})
    finally:
        await _drop_schema(schema)


def statement(statement_id: str, version: int = 1, total: str = "100.00") -> OutboxInput:
    body = json.dumps({"statement_id": statement_id, "version": version, "total": total}, sort_keys=True)
    return OutboxInput(statement_id, version, body.encode())


__all__ = ["BACKENDS", "Backend", "Store", "backend_named", "statement"]
