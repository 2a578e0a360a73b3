"""Resets, decreases and spikes: the validation's counter faults listed as meter-health findings.

House H's breaker meter el-02 (an Eastron SDM630: 100 A, 3 x 230 V, at most about 69 kWh an hour) is
read every quarter hour and counts 1 kWh each. On 10 March 12:00 UTC its register jumps by 5,000 kWh and
goes on from there (no meter can count that in 15 minutes), on 14 March 08:00 it drops by 30 kWh and
goes on from there, and on 16 March 09:00 one reading is 30 kWh high and the next ones resume the
course (a transient spike). The validation stores a counter fault for each; `bms-bridge events SITE
--json` lists them as `anomaly.meter_spike` and `anomaly.meter_reset` findings with their evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bms_bridge.cli import main
from metering.anomalies.counter_faults import RESET, SPIKE
from metering.consumption import refresh_intervals
from metering.readings import Reading
from metering.store import ConsumptionStore, Store
from tests.anomalies.sites import write_house

FIRST = datetime(2025, 3, 1, tzinfo=UTC)
JUMP = datetime(2025, 3, 10, 12, tzinfo=UTC)
DROP = datetime(2025, 3, 14, 8, tzinfo=UTC)
BLIP = datetime(2025, 3, 16, 9, tzinfo=UTC)
LAST = datetime(2025, 3, 18, tzinfo=UTC)
SLOT = timedelta(minutes=15)


def register(at: datetime) -> float:
    value = 1000.0 + (at - FIRST) / SLOT  # 1 kWh a quarter hour
    if at >= JUMP:
        value += 5000.0
    if at >= DROP:
        value -= 30.0 + 1.0  # and it does not count the quarter hour of the drop
    if at == BLIP:
        value += 30.0
    return value


async def _fill(site_folder: Path, url: str) -> None:
    site = write_house(site_folder)
    readings, t = [], FIRST
    while t <= LAST:
        readings.append(Reading("el.H1-02", t, register(t), source="modbus:d-02"))
        t += SLOT
    async with Store.open(url) as store:
        await store.insert_readings(readings)
        await refresh_intervals(site, ConsumptionStore(store), FIRST, LAST)


def _events(url: str, folder: Path, *extra: str) -> list[dict[str, object]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--db", url, "events", str(folder), "--json", *extra]) == 0
    found: list[dict[str, object]] = json.loads(out.getvalue())
    return found


def test_counter_faults_become_meter_health_findings(tmp_path: Path) -> None:
    folder, url = tmp_path / "house", f"sqlite:///{tmp_path / 'h.db'}"
    asyncio.run(_fill(folder, url))
    faults = _events(url, folder, "--kind", "counter_fault")
    assert sorted(str(e["details"]["fault"]) for e in faults) == ["backwards", "glitch", "implausible"]  # type: ignore[index]
    listed = [e for e in _events(url, folder) if str(e["kind"]).startswith("anomaly.")]
    assert sorted((e["kind"], e["subject"], e["started_at"]) for e in listed) == [
        (RESET, "el.H1-02", DROP.isoformat()),
        (SPIKE, "el.H1-02", JUMP.isoformat()),
        (SPIKE, "el.H1-02", BLIP.isoformat()),
    ]
    by_start = {e["started_at"]: e for e in listed}
    jump, drop, blip = by_start[JUMP.isoformat()], by_start[DROP.isoformat()], by_start[BLIP.isoformat()]
    assert jump["severity"] == "warning" and drop["severity"] == "warning" and blip["severity"] == "info"
    jd = jump["details"]
    assert isinstance(jd, dict) and jd["count"] == 1 and jd["day"] == "2025-03-10"
    [fault] = jd["faults"]
    # the reading before the jump (1000 + 911 quarter hours) and the jump itself (+ 1 + 5000), as stored
    assert (fault["fault"], fault["before"], fault["after"]) == ("implausible", 1911.0, 6912.0)
    assert fault["counter_fault"].startswith("counter_fault:el.H1-02:implausible:")
    assert jump["evidence"] == [{"ts": JUMP.isoformat(), "values": {"el.H1-02": 6912.0, "el.H1-02.before": 1911.0}}]
    dd = drop["details"]
    assert isinstance(dd, dict) and dd["faults"][0]["fault"] == "backwards"
    assert dd["faults"][0]["after"] - dd["faults"][0]["before"] == -30.0
    assert jump["tenants"] == ["t2"] and jump["equipment"] == "el-02"
    # listing again adds nothing
    again = [e for e in _events(url, folder) if str(e["kind"]).startswith("anomaly.")]
    assert [e["id"] for e in again] == [e["id"] for e in listed]
