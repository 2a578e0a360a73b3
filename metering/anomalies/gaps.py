"""Communication gaps: quarter hours a polled point has no measured value for, at least `gap_after` long.

A polled point (Modbus, read every few seconds to 15 minutes) has a measured value in every quarter
hour; a missing one, or one spread across a gap (estimated), is a gap. An LPWAN meter sends when it
likes: an uplink a little late, or one every hour, makes the quarter hours between them spread, so for
it only missing quarter hours count, and only beyond twice its uplink interval. Manually read meters
have no gaps to report.
"""

from __future__ import annotations

from datetime import datetime

from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.nights import SLOT, slots, utc
from metering.anomalies.site import area_label, building_of, is_polled, reading_interval
from metering.events import Condition
from metering.readings import Interval, Quality

KIND = "anomaly.gap"


def gaps(inputs: AnomalyInputs) -> list[Condition]:
    site, rule = inputs.site, inputs.site.anomalies.meter_health
    if not rule.enabled:
        return []
    conditions: list[Condition] = []
    for point in site.points:
        every = reading_interval(site, point)
        series = inputs.series(point.id)
        if every is None or not series:
            continue
        # an uplink a few seconds late makes its quarter hours estimated: only a poller's are all measured
        polled = is_polled(site, point) and every <= SLOT
        longest = rule.gap_after if polled else max(rule.gap_after, 2 * every)
        by_start = {i.start: i for i in series}

        def missing(t: datetime, by_start: dict[datetime, Interval] = by_start, polled: bool = polled) -> bool:
            interval = by_start.get(t)
            return interval is None or (polled and interval.quality is Quality.ESTIMATED)

        # before the first stored quarter hour the point was not there yet: that is no gap
        first = max(utc(inputs.start), series[0].start)
        run: list[datetime] = []
        for t in [*slots(first, inputs.end), None]:
            if t is not None and missing(t):
                run.append(t)
                continue
            if run and len(run) * SLOT >= longest:
                start, end = run[0], run[-1] + SLOT
                ongoing = t is None
                area = area_label(site, point)
                hours = len(run) * SLOT.total_seconds() / 3600
                conditions.append(
                    Condition(
                        key=f"{KIND}:{point.id}:{start.isoformat()}",
                        kind=KIND,
                        subject=point.id,
                        title=f"No data from {point.id}{f' ({area})' if area else ''} for {hours:g} h"
                        + (" (still missing)" if ongoing else ""),
                        started_at=start,
                        ended_at=None if ongoing else end,
                        severity="warning",
                        equipment=point.meter,
                        zone=building_of(site, point),
                        details={
                            "point": point.id,
                            "hours": hours,
                            "reading_interval_s": every.total_seconds(),
                            "since_window_start": start == first,
                        },
                    )
                )
            run = []
    return conditions
