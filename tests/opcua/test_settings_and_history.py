"""Pure parts of the adapter: settings validation, status mapping, HistoryRead semantics (no network)."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path

import pytest
from asyncua import ua

from bms_bridge.exposure.points import PointStatus
from bms_bridge.opcua import OpcUaSettings, status_code_name
from bms_bridge.opcua.history import PointHistoryStorage
from bms_bridge.opcua.ua_values import string_node_id
from tests.opcua.conftest import T0, MemoryHistory, hourly_energy

NODE = string_node_id("SiteA.B-A.IT-Co.M-A3-01.active-energy", 2)


def test_settings_refuse_inconsistent_security(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="certificate and a private key"):
        OpcUaSettings(security_policies=("None", "Basic256Sha256_SignAndEncrypt"))
    with pytest.raises(ValueError, match="unknown OPC UA security policies"):
        OpcUaSettings(security_policies=("Basic128Rsa15",))
    with pytest.raises(ValueError, match="nobody could log in"):
        OpcUaSettings(allow_anonymous=False)
    with pytest.raises(ValueError, match=re.escape("opc.tcp://HOST:PORT")):
        OpcUaSettings(endpoint="http://127.0.0.1:4840")
    settings = OpcUaSettings(users={"a": "b"}, certificate=tmp_path / "c.der", private_key=tmp_path / "k.pem")
    with pytest.raises(TypeError):
        settings.users["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize(
    ("status", "value", "expected"),
    [
        (PointStatus.OK, 1.0, "Good"),
        (PointStatus.STALE, 1.0, "UncertainLastUsableValue"),
        (PointStatus.COMM_FAILURE, 1.0, "UncertainNoCommunicationLastUsableValue"),
        (PointStatus.COMM_FAILURE, math.nan, "BadNoCommunication"),
        (PointStatus.OUT_OF_SERVICE, 1.0, "BadOutOfService"),
        (PointStatus.NO_VALUE, math.nan, "BadWaitingForInitialData"),
        (PointStatus.OK, math.nan, "BadWaitingForInitialData"),  # a NaN is never published as Good
    ],
)
def test_status_mapping(status: PointStatus, value: float, expected: str) -> None:
    assert status_code_name(status, value) == expected


def storage(hours: int = 48, cap: int = 10_000) -> tuple[PointHistoryStorage, MemoryHistory]:
    history = MemoryHistory({"active-energy": hourly_energy(hours)})
    points = {NODE: "active-energy"}
    return PointHistoryStorage(history.read, points.get, max_history_data_response_size=cap), history


def hours_of(values: list[ua.DataValue]) -> list[int]:
    return [int((dv.SourceTimestamp - T0) / timedelta(hours=1)) for dv in values]  # type: ignore[operator]


async def test_forward_read_with_continuation_point() -> None:
    store, _ = storage(cap=4)
    values, more = await store.read_node_history(NODE, T0, T0 + timedelta(hours=9), 0)
    assert hours_of(values) == [0, 1, 2, 3]
    assert more == T0 + timedelta(hours=4)  # the next start time
    values, more = await store.read_node_history(NODE, more, T0 + timedelta(hours=9), 0)
    assert hours_of(values) == [4, 5, 6, 7]


async def test_num_values_limits_and_reverse_reads() -> None:
    store, _ = storage()
    values, _ = await store.read_node_history(NODE, T0 + timedelta(hours=5), T0 + timedelta(hours=20), 3)
    assert hours_of(values) == [5, 6, 7]
    # Part 11 6.4.3.2: start after end reads backwards, newest first.
    values, more = await store.read_node_history(NODE, T0 + timedelta(hours=20), T0 + timedelta(hours=5), 3)
    assert (hours_of(values), more) == ([20, 19, 18], None)
    # Only an end time: the newest values before it.
    values, _ = await store.read_node_history(NODE, None, T0 + timedelta(hours=10), 2)
    assert hours_of(values) == [10, 9]
    # Only a start time: forward to the end of the data.
    values, _ = await store.read_node_history(NODE, T0 + timedelta(hours=46), None, 0)
    assert hours_of(values) == [46, 47]
    assert all(dv.StatusCode.is_good() for dv in values)  # type: ignore[union-attr]


async def test_unknown_node_reads_nothing_without_calling_the_store() -> None:
    store, history = storage()
    assert await store.read_node_history(string_node_id("other", 2), T0, T0 + timedelta(hours=1), 0) == ([], None)
    assert history.reads == 0
