"""Clock drift on synthetic uplinks: House H's yard meter (LPWAN, hourly uplinks) and its own timestamps.

Its uplinks reach the bridge 1.5 s after the meter stamps them. From Friday 28 March 2025 00:00 local
its clock runs fast by 60 s a day. With the default tolerance of 2 minutes, the first day whose median
offset is beyond it is Sunday 30 March (median about +88 s on the 29th, +147 s on the 30th), the night
the clocks go forward: a day of 23 hours and 23 uplinks, judged like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from metering.anomalies.clock_drift import clock_drift
from metering.anomalies.inputs import AnomalyInputs, ClockSample
from tests.anomalies.sites import local, write_house

START, END = local(date(2025, 3, 24)), local(date(2025, 4, 7))
DRIFT = local(date(2025, 3, 28))
DELAY = -1.5  # s: the meter stamps its uplink, the network delivers it a moment later
HOUR = timedelta(hours=1)


def fast_from_drift(at: datetime) -> float:
    return DELAY + max(0.0, (at - DRIFT).total_seconds()) * 60.0 / 86_400


def uplinks(offset: Callable[[datetime], float], start: datetime = START - timedelta(days=7)) -> list[ClockSample]:
    found, t = [], start
    while t < END:
        found.append(ClockSample(t + timedelta(seconds=offset(t)), t))
        t += HOUR
    return found


def judge(tmp_path: Path, samples: list[ClockSample], anomalies: str = "") -> AnomalyInputs:
    site = write_house(tmp_path, anomalies=anomalies)
    return AnomalyInputs(site.model, {}, START, END, clock_samples={"lora-1": samples})


def test_a_clock_running_fast_from_a_known_day(tmp_path: Path) -> None:
    [found] = clock_drift(judge(tmp_path, uplinks(fast_from_drift)))
    d = found.details
    assert found.key == "anomaly.clock_drift:lora-1:2025-03-30" and found.subject == "lora-1"
    assert (d["first_day"], d["last_day"], d["days"]) == ("2025-03-30", "2025-04-06", 8)
    # the first uplink beyond 120 s: 120 s = 2 days after the start of the drift, plus the 1.5 s delay
    assert found.started_at == datetime(2025, 3, 29, 23, tzinfo=UTC) + HOUR * 1
    assert d["trend_s_per_day"] == pytest.approx(60.0, abs=0.01)
    assert d["drift_began"] == "2025-03-28" and d["usual_offset_s"] == DELAY
    # the last uplink, Sunday 6 April 23:00 local (21:00 UTC): 9 days 22 h after the drift began
    assert d["offset_s"] == pytest.approx(DELAY + 60.0 * (9 + 22 / 24), abs=0.1)
    assert d["points"] == ["cw.H-yard"] and found.ended_at is None
    assert "ahead of" in found.title and "+60 s/day" in found.title


def test_a_network_delay_alone_is_no_drift(tmp_path: Path) -> None:
    assert clock_drift(judge(tmp_path, uplinks(lambda at: DELAY))) == []
    # nor is a clock 119 s off, inside the tolerance; 10 minutes off is, with no trend
    assert clock_drift(judge(tmp_path, uplinks(lambda at: -119.0))) == []
    [off] = clock_drift(judge(tmp_path, uplinks(lambda at: -600.0)))
    assert off.details["days"] == 14 and off.details["trend_s_per_day"] == 0.0 and off.details["drift_began"] is None
    assert off.details["since_window_start"] is True and "behind" in off.title


def test_a_resynchronised_clock_ends_the_finding(tmp_path: Path) -> None:
    resync = local(date(2025, 4, 3), datetime.min.time())
    [found] = clock_drift(judge(tmp_path, uplinks(lambda at: DELAY if at >= resync else fast_from_drift(at))))
    assert found.ended_at == resync and found.details["last_day"] == "2025-04-02"


def test_the_tolerance_comes_from_yaml(tmp_path: Path) -> None:
    # 5 min: beyond on the day whose median passes 300 s, 2 April (median about +327 s)
    yaml = "anomalies:\n  meter_health: {clock_tolerance: 5min}\n"
    [found] = clock_drift(judge(tmp_path, uplinks(fast_from_drift), yaml))
    assert found.details["first_day"] == "2025-04-02" and found.details["tolerance_s"] == 300.0


async def test_the_offsets_come_from_the_stored_lpwan_frames(tmp_path: Path) -> None:
    from bms_bridge.anomalies import clock_samples
    from metering.store import Store

    site = write_house(tmp_path / "house")
    async with Store.open(f"sqlite:///{tmp_path / 'h.db'}") as store:
        for f_cnt, sample in enumerate(uplinks(fast_from_drift)):
            await store.remember_frame("70B3D57ED0001234", f_cnt, sample.device_time, sample.received_at)
        await store.remember_frame("70b3d57ed0009999", 0, START, START)  # a device this site does not have
        found = await clock_samples(store, site.model, START - timedelta(days=7), END)
    assert (
        list(found) == ["lora-1"] and len(found["lora-1"]) == 21 * 24 - 1
    )  # hourly for 3 weeks, less the hour skipped on 30 March
    [drift] = clock_drift(AnomalyInputs(site.model, {}, START, END, clock_samples=found))
    assert drift.details["first_day"] == "2025-03-30" and drift.details["drift_began"] == "2025-03-28"
