"""The demo's chiller on a cool September day (9 September 2026) is no stuck meter.

A pure-rule run over intervals generated from the simulator's load model and register images, exactly
as the demo's history stores them (`MeterRegisters.poller_value` at each quarter hour, differenced),
for building A's main meter and every sub-meter, 28 days of reference before the day judged. After a
warm August the chiller (`el.chiller`) draws its 0.3 kW standby all day: behind its CT of 60 on a
0.1 kWh register that is one 6 kWh step in 20 hours, so it reads zero through working hours in which it
usually drew. The full demo history (13 months) is too slow for a test; this is the part that matters.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bms_bridge.commands import demo
from bms_bridge.hvac.inputs import public_holidays
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.simulate.registers import MeterRegisters
from bms_bridge.sites import open_site
from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.resolution import register_steps
from metering.anomalies.site import metered_groups
from metering.anomalies.stuck import stuck, zero_runs
from metering.readings import Interval
from point_mapping.loader import LoadedSite

# the demo's history is built first: minutes on a loaded two-core machine, not a hang
pytestmark = pytest.mark.timeout(1200)

SLOT = timedelta(minutes=15)
DAY = date(2026, 9, 9)


@pytest.fixture(scope="module")
def site() -> LoadedSite:
    return open_site(demo.DEMO_SITE)


@pytest.fixture(scope="module")
def judged(site: LoadedSite) -> AnomalyInputs:
    model = site.model
    zone = model.site.zone
    start = datetime.combine(DAY, time(0), zone).astimezone(UTC)
    end = start + timedelta(days=1)
    history = start - model.anomalies.meter_health.reference - timedelta(days=1)
    registers = MeterRegisters(model, site.profiles, LoadModel(model))
    group = next(g for g in metered_groups(model) if g.main == "el.A-main")
    intervals: dict[str, list[Interval]] = {}
    for point in (group.main, *group.subs):
        t, before, found = history, registers.poller_value(point, history), []
        while t < end:
            after = registers.poller_value(point, t + SLOT)
            found.append(Interval(point, t, after - before))
            t, before = t + SLOT, after
        intervals[point] = found
    return AnomalyInputs(
        model,
        intervals,
        start,
        end,
        holidays=public_holidays(model, DAY.year, DAY.year),
        steps=register_steps(model, site.profiles),
    )


def test_the_chiller_reads_zero_in_hours_it_usually_draws(judged: AnomalyInputs) -> None:
    zone = judged.site.site.zone
    runs = [r for r in zero_runs(judged.series("el.chiller")) if r.end > judged.start]
    working = [r for r in runs if any(7 <= s.start.astimezone(zone).hour < 19 for s in r.slots) and len(r.slots) >= 16]
    assert working, "the candidate the rule must reject is there: zero for hours of a working day"
    assert judged.steps["el.chiller"] == 6.0  # 0.1 kWh x CT 60


def test_no_stuck_meter_on_the_cool_september_day(judged: AnomalyInputs) -> None:
    assert stuck(judged) == []


def test_nor_when_a_sibling_sub_meter_was_never_read(judged: AnomalyInputs) -> None:
    # without el.A5-03 the unmetered rest of el.A-main cannot be formed: the parent alone must tell
    # that the chiller's load stopped (it dropped with it) rather than went unmetered
    partial = {p: s for p, s in judged.intervals.items() if p != "el.A5-03"}
    assert stuck(replace(judged, intervals=partial)) == []
