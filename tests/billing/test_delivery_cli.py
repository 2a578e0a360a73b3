"""`bms-bridge outbox`: what is pending, delivered or dead, and sending dead versions again."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from billing_export.outbox import OutboxState
from billing_export.outbox.dead_letter import dead_letter_event
from billing_export.outbox.store import OutboxStore
from bms_bridge.cli import main
from metering.store import Store
from tests.billing.outbox_support import statement

MINIMAL = Path(__file__).resolve().parents[1] / "point_mapping" / "sites" / "minimal"
QUEUED = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


async def _prepare(url: str) -> None:
    async with Store.open(url) as store:
        outbox = OutboxStore(store)
        await outbox.enqueue([statement("ACME-2026-10"), statement("CAFE-2026-10"), statement("ZED-2026-10")], QUEUED)
        acme, cafe, zed = await outbox.due(QUEUED)
        await outbox.mark_delivered(acme.id, {"receipt_id": "INV-4711"}, QUEUED)
        await outbox.mark_dead(cafe.id, "HTTP 422: unknown tenant CAFE")
        await outbox.mark_dead(zed.id, "HTTP 422: unknown tenant ZED")
        for entry in (cafe, zed):
            await store.add_event(dead_letter_event(entry, "HTTP 422", QUEUED))


async def _state(url: str) -> tuple[list[tuple[str, OutboxState]], list[tuple[str, bool]]]:
    async with Store.open(url) as store:
        entries = [(e.key, e.state) for e in await OutboxStore(store).entries()]
        events = [(e.dedup_key, e.ended_at is not None) for e in await store.events(kind="export-dead-letter")]
    return entries, events


def test_outbox_lists_and_requeues_dead_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    asyncio.run(_prepare(url))

    assert main(["--db", url, "outbox", str(MINIMAL), "--json", "--state", "dead"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["key"], e["last_error"]) for e in listed] == [
        ("CAFE-2026-10:1", "HTTP 422: unknown tenant CAFE"),
        ("ZED-2026-10:1", "HTTP 422: unknown tenant ZED"),
    ]

    assert main(["--db", url, "outbox", str(MINIMAL)]) == 0
    text = capsys.readouterr().out
    assert "ACME-2026-10:1" in text and "delivered 2026-11-01 06:30" in text and "INV-4711" in text
    assert text.rstrip().endswith("3 statement versions")

    assert main(["--db", url, "outbox", str(MINIMAL), "--requeue-dead", "CAFE-2026-10:1"]) == 0
    assert "CAFE-2026-10:1: queued again (was dead: HTTP 422: unknown tenant CAFE)" in capsys.readouterr().out
    entries, events = asyncio.run(_state(url))
    assert entries == [
        ("ACME-2026-10:1", OutboxState.DELIVERED),
        ("CAFE-2026-10:1", OutboxState.PENDING),
        ("ZED-2026-10:1", OutboxState.DEAD),
    ]
    cafe_key = f"export-dead-letter:CAFE-2026-10:1:{QUEUED.isoformat()}"
    assert dict(events) == {cafe_key: True, f"export-dead-letter:ZED-2026-10:1:{QUEUED.isoformat()}": False}

    # a delivered or unknown key cannot be requeued
    assert main(["--db", url, "outbox", str(MINIMAL), "--requeue-dead", "ACME-2026-10:1", "NOPE:1"]) == 1
    assert "not dead or unknown: ACME-2026-10:1, NOPE:1" in capsys.readouterr().err
