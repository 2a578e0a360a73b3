"""Run the anomaly rules over stored intervals and keep the `anomaly.*` events in step with them.

The periodic run judges the last `anomalies.lookback` (56 days by default) with enough history before
it for the rules' references. A leak still running on the first night judged is walked back through
older intervals of its point, one slice at a time, so the event names the night it started. A finding
that runs from the start of the period and continues an open event of the same kind and subject keeps
that event (its key and start); open events that the rules no longer see are closed. Acknowledgements
are never touched here.
"""

from __future__ import annotations

import asyncio
import logging
from bisect import bisect_left
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bms_bridge.hvac.findings import as_event
from bms_bridge.hvac.inputs import public_holidays
from bms_bridge.hvac.prices import price_lookup
from metering.anomalies.after_hours import KIND as AFTER_HOURS
from metering.anomalies.after_hours import continue_from
from metering.anomalies.evaluate import KIND_PREFIX, evaluate
from metering.anomalies.gaps import KIND as GAP
from metering.anomalies.inputs import AnomalyInputs, ClockSample
from metering.anomalies.night_flow import KIND as NIGHT_FLOW
from metering.anomalies.night_flow import Night, leaking_tail, night_flow
from metering.anomalies.resolution import register_steps
from metering.consumption import FAULT_EVENT_KIND
from metering.events import Condition, reconcile
from metering.hvac.schedule import OccupancySchedule, schedule_from_json
from metering.intervals import slot_start
from metering.readings import Interval
from metering.store import Event, Store
from point_mapping.loader import LoadedSite
from point_mapping.model import LpwanConnection, SiteModel

log = logging.getLogger(__name__)

LEAK_SLICE = timedelta(weeks=8)  # how far back a running leak is followed per read
OLDEST = timedelta(days=800)  # and no further than this


@dataclass(frozen=True, slots=True)
class AnomalyRefresh:
    opened: int
    updated: int
    closed: int
    conditions: tuple[Condition, ...]


def history_needed(site: LoadedSite) -> timedelta:
    """How much before the judged period the rules look at to say what is usual."""
    rules = site.model.anomalies
    return max(timedelta(weeks=rules.after_hours.reference_weeks + 1), rules.meter_health.reference) + timedelta(days=1)


class IntervalCache:
    """Intervals read so far, for runs over consecutive periods (the demo's history): each row is read once.

    Reading is what a run costs (about 15 µs a row); a period and the history before it overlap the last.
    """

    def __init__(self) -> None:
        self.series: dict[str, list[Interval]] = {}
        self.span: tuple[datetime, datetime] | None = None

    async def read(
        self, store: Store, point_ids: list[str], start: datetime, end: datetime
    ) -> dict[str, list[Interval]]:
        if self.span is None or not self.span[0] <= start <= self.span[1] or end < self.span[1]:
            self.series = {p: await store.intervals(p, start, end) for p in point_ids}
        else:
            for p in point_ids:
                kept = self.series.get(p, [])
                kept = kept[bisect_left([i.start for i in kept], start) :]
                self.series[p] = kept + await store.intervals(p, self.span[1], end)
        self.span = (start, end)
        return self.series


async def clock_samples(store: Store, model: SiteModel, start: datetime, end: datetime) -> dict[str, list[ClockSample]]:
    """Per LPWAN device id, its uplinks' own time against when we received them (clock drift)."""
    by_eui = {d.connection.eui: d.id for d in model.devices if isinstance(d.connection, LpwanConnection)}
    found: dict[str, list[ClockSample]] = {}
    for eui, device_time, received_at in await store.frame_clocks(start, end):
        device = by_eui.get(eui)
        if device is not None:
            found.setdefault(device, []).append(ClockSample(device_time, received_at))
    return found


async def gather(
    site: LoadedSite, store: Store, start: datetime, end: datetime, cache: IntervalCache | None = None
) -> AnomalyInputs:
    model = site.model
    history = start - history_needed(site)
    intervals = await (cache or IntervalCache()).read(store, [p.id for p in model.points], history, end)
    return AnomalyInputs(
        model,
        {k: v for k, v in intervals.items() if v},
        start,
        end,
        holidays=public_holidays(model, history.year, end.year),
        price=price_lookup(model),
        currency=model.site.currency,
        schedules=await contract_schedules(model, store),
        steps=register_steps(model, site.profiles),
        counter_faults=await store.events(kind=FAULT_EVENT_KIND, since=history, until=end),
        clock_samples=await clock_samples(store, model, history, end),
    )


async def contract_schedules(model: SiteModel, store: Store) -> dict[str, OccupancySchedule]:
    """The BMS Schedule objects contracts take their occupancy hours from, as last read from the BMS."""
    wanted = {c.occupancy_schedule for c in model.contracts if c.occupancy_schedule}
    if not wanted:
        return {}
    stored = await store.schedules()
    return {p: schedule_from_json(stored[p][1], model.site.zone) for p in wanted if p in stored}


async def earlier_leaks(
    site: LoadedSite, store: Store, inputs: AnomalyInputs, conditions: list[Condition]
) -> tuple[dict[str, list[Night]], frozenset[str]]:
    """For each leak running since the first night judged, the leaking nights before it, oldest first;
    and the points whose leak reaches back to their first stored night (it may be older still)."""
    found: dict[str, list[Night]] = {}
    open_ended: set[str] = set()
    for condition in conditions:
        if condition.kind != NIGHT_FLOW or not condition.details.get("since_window_start"):
            continue
        point = site.model.point_by_id[condition.subject]
        nights: list[Night] = []
        end = inputs.start
        reaches_start = True
        while reaches_start and end > inputs.start - OLDEST:
            start = end - LEAK_SLICE
            series = await store.intervals(point.id, start, end)
            if not series:
                break
            older = replace(inputs, intervals={point.id: series}, start=start, end=end)
            tail, reaches_start = leaking_tail(older, point)
            nights = [*tail, *nights]
            end = start
        if nights:
            found[point.id] = nights
        if reaches_start:
            open_ended.add(point.id)
    return found, frozenset(open_ended)


def _continue_open(conditions: list[Condition], open_events: list[Event]) -> list[Condition]:
    """A finding that starts with the period judged continues the open event of its kind and subject."""
    by_subject = {(e.kind, e.subject): e for e in open_events}
    continued: list[Condition] = []
    for condition in conditions:
        stored = by_subject.get((condition.kind, condition.subject))
        if (
            stored is not None
            and condition.details.get("since_window_start")
            and stored.started_at < condition.started_at
            and stored.dedup_key != condition.key
        ):
            if condition.kind == AFTER_HOURS:
                condition = continue_from(stored.details, condition)  # its weeks before the period count too
            condition = replace(condition, key=stored.dedup_key, started_at=stored.started_at)
        continued.append(condition)
    return continued


async def refresh_anomalies(
    site: LoadedSite, store: Store, start: datetime, now: datetime, *, cache: IntervalCache | None = None
) -> AnomalyRefresh:
    """Judge [start, now) (whole quarter hours; the one still being filled is left out)."""
    model = site.model
    if not model.anomalies.enabled:
        return AnomalyRefresh(0, 0, 0, ())
    end = slot_start(now) - timedelta(minutes=15)
    start = slot_start(start)
    if end <= start:
        return AnomalyRefresh(0, 0, 0, ())
    inputs = await gather(site, store, start, end, cache)
    # the rules are pure and take seconds on a large site: off the event loop, so polling goes on
    leaks = await asyncio.to_thread(night_flow, inputs)
    earlier, open_ended = await earlier_leaks(site, store, inputs, leaks)
    conditions = await asyncio.to_thread(evaluate, inputs, earlier, open_ended)
    open_events = await store.open_events(kind_prefix=KIND_PREFIX)
    conditions = _continue_open(conditions, open_events)
    # a finding already closed stays closed: the rules seeing its past again is not news
    closed = {e.dedup_key for e in await store.events(since=start - history_needed(site)) if e.ended_at is not None}
    conditions = [c for c in conditions if c.key not in closed]
    plan = reconcile([e.dedup_key for e in open_events], conditions, end)
    started = {e.dedup_key: e.started_at for e in open_events}
    seen = {c.key for c in conditions}
    for condition in plan.open:
        await store.add_event(as_event(condition))
    for condition in plan.update:
        await store.update_finding(as_event(condition))
    silent = {e.dedup_key for e in open_events if e.kind == GAP and e.subject not in inputs.intervals}
    for key, when in plan.close:
        if key in silent:
            continue  # no data at all in what was read: the gap goes on, it did not end
        if key not in seen and started[key] < start:
            when = start  # from before the period and not seen in it: it ended before the rules looked
        await store.end_event(key, when)
    log.info("anomalies: %d new, %d updated, %d closed", len(plan.open), len(plan.update), len(plan.close))
    return AnomalyRefresh(len(plan.open), len(plan.update), len(plan.close), tuple(conditions))
