"""A full disk, for real: the database on a small tmpfs filled to the last byte by another file.

SQLite then answers "database or disk is full" (SQLITE_FULL) to the writer's transaction. What must hold
(issue 13, item 3): one clear log line naming the cause, no reading lost or stored twice, no corruption
(`PRAGMA integrity_check`), and everything written once space is freed. Needs root for `mount -t tmpfs`;
skips with that reason elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from metering.store import ReadingWriter, Store
from metering.store.writer import StoreFailing, StoreState
from tests.store.test_outage_buffer import (
    LOGGER,
    POINTS,
    assert_all_stored_once,
    poll,
    wait_for,
    writer_options,
)

SIZE = 4 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a ballast file until the disk refuses another byte."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return ballast


async def test_a_full_disk_loses_nothing_corrupts_nothing_and_says_so_once(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    db = small_disk / "store.db"
    options = {**writer_options(small_disk / "state" / "reading-journal"), "buffer_readings": 3_000}
    async with Store.open(f"sqlite:///{db}") as store:
        async with ReadingWriter(store, **options) as writer:  # type: ignore[arg-type]
            for second in range(10):
                await writer.put_many(poll(second))
            await writer.flush()
            ballast = fill(small_disk)
            for second in range(10, 50):  # 2,000 readings while nothing can be written
                await writer.put_many(poll(second))
                await asyncio.sleep(0)
            await wait_for(lambda: writer.state is StoreState.FAILING, "the writer to notice the full disk")
            assert "full" in repr(writer.last_error)  # sqlite3.OperationalError: database or disk is full
            with pytest.raises(StoreFailing):
                await writer.flush(unless_failing=True)
            os.unlink(ballast)  # the operator frees space
            await asyncio.wait_for(writer.flush(), 60)
            await wait_for(lambda: writer.state is StoreState.OK, "the writer to catch up")
        assert (writer.written, writer.duplicates, writer.dropped) == (50 * len(POINTS), 0, 0)
        await assert_all_stored_once(store, 50)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    errors = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.ERROR]
    failed = [m for m in errors if m.startswith("storing readings failed")]
    assert len(failed) == 1 and "database or disk is full" in failed[0], errors  # once, not once per retry
