"""Clock drift: a device whose own timestamps move away from the time the bridge receives its messages.

What is measured, and from where: for every message that carries a time of its own (an LPWAN uplink:
the meter's timestamp from the decoded payload, else the network server's receive time), the offset
`device_time - received_at` in seconds, as stored per frame. A meter's clock that runs fast or slow
shows as an offset that grows day by day; a constant small negative offset is only the network's
delivery delay. Per local day the median offset is taken (one late delivery is not drift); a day whose
median is beyond `clock_tolerance` is a drifting day, and a run of them is one finding naming the
device, its points, the latest offset and its trend (seconds per day, least squares over the run's
messages), and the day the drift began where the trend says so (where the fitted line leaves the
device's usual offset of the week before).
Modbus meters are read on the bridge's clock and their readings are stamped with it; no profile in
use exposes a clock register, so they have nothing to judge. Manual and CSV imports keep no receive
time (docs/anomalies.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from statistics import StatisticsError, linear_regression, median
from typing import Any

from metering.anomalies.inputs import AnomalyInputs, ClockSample
from metering.anomalies.nights import day_window, local_days, utc
from metering.events import Condition, EvidenceSample

KIND = "anomaly.clock_drift"
SECONDS_PER_DAY = 86_400.0


def clock_drift(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    if not rule.enabled:
        return []
    zone = site.site.zone
    tolerance = rule.clock_tolerance.total_seconds()
    conditions: list[Condition] = []
    for device_id, samples in sorted(inputs.clock_samples.items()):
        if device_id not in site.device_by_id or not samples:
            continue
        by_day: dict[date, list[ClockSample]] = {}
        for sample in samples:
            by_day.setdefault(sample.received_at.astimezone(zone).date(), []).append(sample)
        run: list[date] = []
        for day in [*local_days(inputs.start, inputs.end, zone), None]:
            day_samples = by_day.get(day, []) if day is not None else []
            judged = len(day_samples) >= rule.clock_min_samples
            if judged and abs(median(s.offset_s for s in day_samples)) > tolerance:
                assert day is not None
                run.append(day)
                continue
            if day is not None and not judged and run:
                continue  # too few messages to say: neither counts nor ends the run
            if run:
                ended = day_window(day, zone)[0] if day is not None else None
                conditions.append(_condition(inputs, device_id, run, by_day, samples, ended))
            run = []
    return conditions


def _trend(samples: Sequence[ClockSample]) -> tuple[float, float] | None:
    """(seconds per day, offset at t=0 of the first sample) of the least-squares line, or None."""
    if len(samples) < 2:
        return None
    t0 = samples[0].received_at
    days = [(s.received_at - t0).total_seconds() / SECONDS_PER_DAY for s in samples]
    try:
        slope, intercept = linear_regression(days, [s.offset_s for s in samples])
    except StatisticsError:  # every sample at the same instant
        return None
    return slope, intercept


def _condition(
    inputs: AnomalyInputs,
    device_id: str,
    run: list[date],
    by_day: dict[date, list[ClockSample]],
    samples: Sequence[ClockSample],
    ended: datetime | None,
) -> Condition:
    site = inputs.site
    zone = site.site.zone
    tolerance = site.anomalies.meter_health.clock_tolerance.total_seconds()
    in_run = sorted((s for d in run for s in by_day[d]), key=lambda s: s.received_at)
    first_beyond = next((s for s in in_run if abs(s.offset_s) > tolerance), in_run[0])
    # the drift began where the run's trend line leaves the device's usual offset (its delivery delay):
    # the median offset of the week before the run, else zero
    run_start = utc(day_window(run[0], zone)[0])
    before = [s.offset_s for s in samples if run_start - timedelta(days=7) <= utc(s.received_at) < run_start]
    baseline = median(before) if before else 0.0
    trend = _trend(in_run)
    began: str | None = None
    if trend is not None and trend[0] != 0:
        slope, intercept = trend
        leaves = in_run[0].received_at + timedelta(days=(baseline - intercept) / slope)
        if leaves <= in_run[-1].received_at:
            began = leaves.astimezone(zone).date().isoformat()
    points = [p.id for m in site.meters_of_device(device_id) for p in site.points_of_meter(m.id)]
    latest = in_run[-1]
    details: dict[str, Any] = {
        "device": device_id,
        "points": points,
        "first_day": run[0].isoformat(),
        "last_day": run[-1].isoformat(),
        "days": len(run),
        "offset_s": round(latest.offset_s, 1),  # the latest message's
        "median_offset_s": round(median(s.offset_s for s in by_day[run[-1]]), 1),  # of the last day
        "trend_s_per_day": round(trend[0], 2) if trend is not None else None,
        "drift_began": began,
        "usual_offset_s": round(baseline, 1),
        "tolerance_s": tolerance,
        "measured_from": "device_time - received_at of its LPWAN uplinks",
        "since_window_start": run[0] == inputs.start.astimezone(zone).date(),
    }
    ahead = "ahead of" if latest.offset_s > 0 else "behind"
    rate = f", {trend[0]:+.0f} s/day" if trend is not None else ""
    evidence = tuple(EvidenceSample(utc(s.received_at), {f"{device_id}.offset_s": s.offset_s}) for s in in_run[-8:])
    return Condition(
        key=f"{KIND}:{device_id}:{run[0].isoformat()}",
        kind=KIND,
        subject=device_id,
        title=f"Clock of {device_id} {abs(latest.offset_s):,.0f} s {ahead} the bridge's{rate}, since {run[0]}",
        started_at=utc(first_beyond.received_at),
        ended_at=ended,
        severity="warning",
        equipment=device_id,
        evidence=evidence,
        details=details,
    )
