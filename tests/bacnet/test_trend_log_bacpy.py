"""Trend Log objects served from the store and read with ReadRange by bac-py, in its own process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, BacnetServer
from bms_bridge.exposure.history import StoreTrends
from metering.readings import Quality, Reading
from metering.store import Store
from tests.bacnet.conftest import objref, point, reading
from tests.bacnet.test_conformance_bacpy import bits, run_bacpy

ENERGY = point("main-energy", "large-analog-value", 7, "kWh", trend_log=True)
LOG = "trend-log,7"
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
# 30 readings a minute apart, 1000.0, 1000.5, ... kWh; the 11th was estimated
READINGS = [
    Reading(
        "main-energy", T0 + timedelta(minutes=i), 1000.0 + 0.5 * i, Quality.ESTIMATED if i == 10 else Quality.MEASURED
    )
    for i in range(30)
]


def local(moment: datetime) -> str:
    """How the device (and the bac-py client) write a time: local, naive."""
    return moment.astimezone().replace(tzinfo=None).isoformat()


@pytest.fixture
async def trend_server(settings: BacnetDeviceSettings, tmp_path: Path) -> AsyncIterator[BacnetServer]:
    async with Store.open(f"sqlite+aiosqlite:///{tmp_path / 'trend.db'}") as store:
        await store.insert_readings(READINGS)
        async with BacnetServer(settings, [ENERGY], trends=StoreTrends(store)) as server:
            server.update(reading(ENERGY, READINGS[-1].value))
            yield server


async def read(settings: BacnetDeviceSettings, tmp: Path, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    return await run_bacpy(settings, list(steps), tmp)


def values(result: dict[str, Any]) -> list[float]:
    return [r["value"] for r in result["records"]]


async def test_record_counts_and_the_log_buffer_read_by_position(
    trend_server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    results = await read(
        settings,
        tmp_path,
        {"op": "read", "object": LOG, "property": "record-count"},
        {"op": "read", "object": LOG, "property": "total-record-count"},
        {"op": "read", "object": LOG, "property": "log-buffer"},
        {"op": "read-range", "object": LOG, "by": "position", "reference": 1, "count": 5},
        {"op": "read-range", "object": LOG, "by": "position", "reference": 30, "count": -3},
        {"op": "read-range", "object": LOG, "by": "position", "reference": 9, "count": 3},
        {"op": "read-range", "object": LOG, "by": None},
        {"op": "raw-read", "object": "device,390001", "property": "protocol-services-supported"},
        {
            "op": "read-range",
            "object": objref(ENERGY),
            "property": "present-value",
            "by": "position",
            "reference": 1,
            "count": 1,
        },
    )
    record_count, total, buffer, first, last, middle, everything, services, not_a_list = results
    assert (record_count["value"], total["value"]) == (30, 30)
    assert buffer["error"] == "property/read_access_denied"  # 12.25 Trend Log: Log_Buffer only by ReadRange
    assert values(first) == [1000.0, 1000.5, 1001.0, 1001.5, 1002.0]
    assert first["result_flags"] == {"first_item": True, "last_item": False, "more_items": False}
    assert first["records"][0]["timestamp"] == local(T0)
    assert values(last) == [1013.5, 1014.0, 1014.5]
    assert last["result_flags"] == {"first_item": False, "last_item": True, "more_items": False}
    # records 9..11: the 11th reading was estimated, so its FAULT flag is set
    assert values(middle) == [1004.0, 1004.5, 1005.0]
    assert [r["status_flags"][1] for r in middle["records"]] == [False, False, True]
    assert everything["item_count"] == 30 and everything["result_flags"]["last_item"] is True
    assert 35 in bits(services["hex"])  # BACnetServicesSupported readRange (its service choice is 26)
    assert not_a_list["error"] == "services/property_is_not_a_list"


async def test_read_by_sequence_number_and_by_time(
    trend_server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    results = await read(
        settings,
        tmp_path,
        {"op": "read-range", "object": LOG, "by": "sequence", "reference": 28, "count": 10},
        # after 08:20:00: the readings of 08:21 and 08:22
        {"op": "read-range", "object": LOG, "by": "time", "reference": local(T0 + timedelta(minutes=20)), "count": 2},
        # before 08:20:00: 08:18 and 08:19
        {"op": "read-range", "object": LOG, "by": "time", "reference": local(T0 + timedelta(minutes=20)), "count": -2},
        {"op": "read-range", "object": LOG, "by": "time", "reference": local(T0 + timedelta(hours=1)), "count": 5},
    )
    by_sequence, after, before, future = results
    assert values(by_sequence) == [1013.5, 1014.0, 1014.5]  # sequence numbers 28..30
    assert by_sequence["first_sequence_number"] == 28
    assert by_sequence["result_flags"]["last_item"] is True
    assert values(after) == [1010.5, 1011.0]
    assert after["first_sequence_number"] == 22
    assert values(before) == [1009.0, 1009.5]
    assert before["first_sequence_number"] == 19
    assert (future["item_count"], future["records"]) == (0, [])


async def test_without_a_trend_source_readrange_stays_unclaimed(settings: BacnetDeviceSettings, tmp_path: Path) -> None:
    async with BacnetServer(settings, [ENERGY]):
        services, log = await read(
            settings,
            tmp_path,
            {"op": "raw-read", "object": "device,390001", "property": "protocol-services-supported"},
            {"op": "read", "object": LOG, "property": "record-count"},
        )
    assert 35 not in bits(services["hex"])
    assert log["error"] == "object/unknown_object"


async def test_trend_log_properties_refuse_writes(
    trend_server: BacnetServer, settings: BacnetDeviceSettings, tmp_path: Path
) -> None:
    writes = {"object-name": "renamed", "description": "x", "enable": False, "stop-when-full": True, "buffer-size": 5}
    steps = [{"op": op, "object": LOG, "property": p, "value": v} for p, v in writes.items() for op in ("write", "wpm")]
    results = await read(settings, tmp_path, *steps, {"op": "read", "object": LOG, "property": "enable"})
    assert [r.get("error") for r in results[:-1]] == ["property/write_access_denied"] * len(steps)
    assert results[-1]["value"] is True
