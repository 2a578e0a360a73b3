from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bms_bridge.cli import main
from metering.store import Event, Store

MINIMAL = Path(__file__).resolve().parents[1] / "point_mapping" / "sites" / "minimal"


async def _store_events(url: str) -> None:
    async with Store.open(url) as store:
        for day, kind in ((3, "counter_fault"), (5, "night_flow")):
            await store.add_event(
                Event(
                    kind=kind,
                    subject="a1-01.energy",
                    severity="warning",
                    started_at=datetime(2026, 1, day, 2, 0, tzinfo=UTC),
                    title=f"{kind} on day {day}",
                    dedup_key=f"{kind}:{day}",
                    energy=1.5,
                    energy_unit="kWh",
                )
            )


def test_events_are_listed_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    asyncio.run(_store_events(url))
    assert main(["--db", url, "events", str(MINIMAL), "--json", "--since", "2026-01-04"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["kind"], e["started_at"]) for e in listed] == [("night_flow", "2026-01-05T02:00:00+00:00")]
    assert listed[0]["energy"] == 1.5 and listed[0]["energy_unit"] == "kWh"

    assert main(["--db", url, "events", str(MINIMAL), "--kind", "counter_fault"]) == 0
    out = capsys.readouterr().out
    assert "counter_fault on day 3" in out and "1 events" in out


def test_bad_since_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    assert main(["--db", url, "events", str(MINIMAL), "--since", "last week"]) == 1
    assert "is not a date" in capsys.readouterr().err
