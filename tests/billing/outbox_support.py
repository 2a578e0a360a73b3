"""Helpers for the outbox and delivery tests: a store on either backend, statements a person can read."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from billing_export.outbox import OutboxInput
from tests.store.conftest import Backend, _drop_schema
from tests.support.services import POSTGRES_URL, free_tcp_port, port_answers, require_postgres

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


SECRET_ENV = "BMS_TEST_BILLING_KEY"
SECRET = "s3cret-shared-with-billing"
REPO = Path(__file__).resolve().parents[2]


class ReceiverProcess:
    """The billing system (tests/support/billing_receiver.py) in a process of its own on a free port.

    `stop()` then `start()` is a receiver that was down: it keeps what it booked in `record`."""

    def __init__(self, folder: Path, *, tolerance: int = 0) -> None:
        self.port = free_tcp_port()
        self.record = folder / "receiver-accepted.jsonl"
        self.tolerance = tolerance
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/statements"

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.support.billing_receiver", "--port", str(self.port)]
        command += ["--secret-env", SECRET_ENV, "--record", str(self.record), "--tolerance", str(self.tolerance)]
        env = {**os.environ, SECRET_ENV: SECRET}
        self.process = subprocess.Popen(command, cwd=REPO, env=env)
        deadline = time.monotonic() + 15
        while not port_answers("127.0.0.1", self.port, timeout=0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"billing receiver did not start (exit code {self.process.poll()})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    async def _call(self, method: str, path: str, payload: Any = None) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"http://127.0.0.1:{self.port}{path}", json=payload) as response,
        ):
            response.raise_for_status()
            return await response.json()

    async def script(self, *behaviours: dict[str, Any]) -> None:
        await self._call("POST", "/control/script", list(behaviours))

    async def requests(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/control/requests"))

    async def accepted(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/control/accepted"))

    def booked_keys(self) -> list[str]:
        """Every key in the receiver's record file, in booking order: a key twice is a double booking."""
        if not self.record.exists():
            return []
        return [json.loads(line)["key"] for line in self.record.read_text().splitlines()]

    async def wait_accepted(self, count: int, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while len(await self.accepted()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver booked fewer than {count} statements within {within} s")
            await asyncio.sleep(0.02)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, moment: datetime) -> None:
        assert moment >= self.now, "time only moves forward"
        self.now = moment
