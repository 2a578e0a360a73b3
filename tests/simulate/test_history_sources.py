"""History of the demo's wireless and notebook meters, built through the real parsing paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bms_bridge.simulate import LoadModel
from bms_bridge.simulate.history import lpwan_history, manual_history
from metering.readings import Quality
from point_mapping.loader import LoadedSite

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_lpwan_history_follows_each_devices_interval(demo: LoadedSite, model: LoadModel) -> None:
    readings = list(lpwan_history(demo, START, START + timedelta(hours=2), model))
    by_point: dict[str, list[datetime]] = {}
    for reading in readings:
        by_point.setdefault(reading.point_id, []).append(reading.ts)
        assert reading.source.startswith("lpwan:70b3d57ed005")
        # the uplink carries whole litres; the point is in m3
        assert reading.value == pytest.approx(model.cumulative(reading.point_id, reading.ts), abs=0.001)
    assert len(by_point["hw.B0-fit"]) == 9  # every 15 minutes, both ends included
    assert len(by_point["cw.B-1-wc"]) == 3  # hourly


def test_manual_history_is_one_working_morning_a_month(demo: LoadedSite, model: LoadModel) -> None:
    readings = list(manual_history(demo, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC), model))
    local = [r.ts.astimezone(demo.model.site.zone) for r in readings]
    # 2026-02-01 and 2026-03-01 are Sundays: the engineer reads the meter on Monday
    assert [(t.month, t.day, t.hour) for t in local] == [(1, 1, 9), (2, 2, 9), (3, 2, 9), (4, 1, 9)]
    assert {r.point_id for r in readings} == {"gas.A0-rest"}
    assert all(r.quality is Quality.MANUAL for r in readings)
    values = [r.value for r in readings]
    assert values == sorted(values) and values[0] < values[-1]
