"""A main meter against the sum of its sub-meters, day by day.

The sub-meters can never draw more than the meter they sit behind: a day on which they add up to more
than the main meter by `balance_tolerance_pct` means one of them over-counts or the main meter misses
consumption (a broken meter, a wrong CT ratio or pulse weight). Less than the main is normal (common
loads are not sub-metered); how much less is judged only where the site says how much may be left
unmetered (`max_unmetered_pct`). Days with a missing or spread quarter hour on any of them are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import day_window, local_days, slots, utc
from metering.anomalies.site import MeteredGroup, building_of, metered_groups
from metering.events import Condition, EvidenceSample
from metering.readings import Interval, Quality

KIND = "anomaly.meter_balance"
TRUSTED = (Quality.MEASURED, Quality.CORRECTED)


@dataclass(frozen=True, slots=True)
class BalanceDay:
    day: date
    start: datetime
    end: datetime
    main: float
    subs: float
    problem: str | None  # "sub-meters exceed main" | "unmetered too large" | None

    @property
    def unmetered_pct(self) -> float:
        return 100.0 * (self.main - self.subs) / self.main if self.main else 0.0


def _day_total(series: dict[datetime, Interval], start: datetime, end: datetime) -> float | None:
    total = 0.0
    for t in slots(start, end):
        interval = series.get(t)
        if interval is None or interval.quality not in TRUSTED:
            return None
        total += interval.value
    return total


def balance_days(inputs: AnomalyInputs, group: MeteredGroup) -> list[BalanceDay]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    zone = site.site.zone
    series = {p: {i.start: i for i in inputs.series(p)} for p in (group.main, *group.subs)}
    found: list[BalanceDay] = []
    limit = rule.max_unmetered_pct.get(group.main)
    for day in local_days(inputs.start, inputs.end, zone):
        start, end = day_window(day, zone)
        if start < utc(inputs.start) or end > utc(inputs.end):
            continue
        totals = [_day_total(series[p], start, end) for p in (group.main, *group.subs)]
        if any(t is None for t in totals):
            continue
        main, subs = totals[0] or 0.0, sum(t or 0.0 for t in totals[1:])
        problem = None
        if subs > main * (1 + rule.balance_tolerance_pct / 100) and subs > 0:
            problem = "sub-meters exceed main"
        elif limit is not None and main > 0 and 100.0 * (main - subs) / main > limit:
            problem = "unmetered too large"
        found.append(BalanceDay(day, start, end, main, subs, problem))
    return found


def balance(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    if not rule.enabled:
        return []
    conditions: list[Condition] = []
    for group in metered_groups(site):
        days = balance_days(inputs, group)
        run: list[BalanceDay] = []
        for day in [*days, None]:
            if day is not None and day.problem is not None and (not run or run[-1].problem == day.problem):
                run.append(day)
                continue
            if run:
                conditions.append(_condition(inputs, group, run, ongoing=day is None, from_first=run[0] is days[0]))
            run = [day] if day is not None and day.problem is not None else []
    return conditions


def _condition(
    inputs: AnomalyInputs, group: MeteredGroup, run: list[BalanceDay], *, ongoing: bool, from_first: bool
) -> Condition:
    site = inputs.site
    first, last = run[0], run[-1]
    main = site.point_by_id[group.main]
    unit = main.unit or ""
    title = (
        f"{group.main} against its sub-meters: {last.problem} ({last.subs:,.1f} of {last.main:,.1f} {unit} "
        f"on {last.day.isoformat()}, {last.unmetered_pct:+.1f} % unmetered)"
    )
    return Condition(
        key=f"{KIND}:{group.main}:{first.day.isoformat()}",
        kind=KIND,
        subject=group.main,
        title=title,
        started_at=first.start,
        ended_at=None if ongoing else last.end,
        severity="warning",
        equipment=main.meter,
        zone=building_of(site, main),
        evidence=tuple(EvidenceSample(d.start, {group.main: d.main, "sub-meters": d.subs}) for d in run[-7:]),
        details={
            "main": group.main,
            "sub_meters": list(group.subs),
            "problem": last.problem,
            "days": len(run),
            "unmetered_pct": round(last.unmetered_pct, 2),
            "tolerance_pct": site.anomalies.meter_health.balance_tolerance_pct,
            "max_unmetered_pct": site.anomalies.meter_health.max_unmetered_pct.get(group.main),
            "since_window_start": from_first,
        },
    )
