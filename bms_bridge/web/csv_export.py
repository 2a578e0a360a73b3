"""CSV downloads of chart data: one header row, times in the site's zone with their UTC offset,
the unit in its own column so a spreadsheet keeps numbers as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from aiohttp import web

from bms_bridge.web.charts import DayProfile, HeatMap, Sample, local_time
from bms_bridge.web.queries import BreakdownLine, Comparison, PeerComparison
from metering.store import Event


def _text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else repr(round(value, 6))


def series_csv(samples: Sequence[Sample], unit: str, zone: ZoneInfo) -> str:
    return _text(
        ("time", "value", "unit", "quality"),
        ((local_time(ms, zone).isoformat(), _number(v), unit, q) for ms, v, q in samples),
    )


def profile_csv(profile: DayProfile, unit: str) -> str:
    return _text(
        ("time_of_day", "working_day_average", "weekend_holiday_average", "unit"),
        (
            (slot, _number(w), _number(e), unit)
            for slot, w, e in zip(profile.slots, profile.working, profile.weekend, strict=True)
        ),
    )


def heat_map_csv(heat: HeatMap, unit: str) -> str:
    return _text(
        ("date", "hour", "value", "unit"),
        (
            (day.isoformat(), f"{hour:02d}:00", _number(row[hour]), unit)
            for day, row in zip(heat.days, heat.values, strict=True)
            for hour in heat.hours
            if row[hour] is not None
        ),
    )


def comparison_csv(comparisons: Sequence[Comparison], zone: ZoneInfo) -> str:
    return _text(
        ("resource", "period", "compared_as", "start", "end", "to_date", "value", "unit"),
        (
            (
                c.resource,
                v.period.label,
                v.period.role,
                v.period.start.astimezone(zone).isoformat(),
                v.period.end.astimezone(zone).isoformat(),
                "yes" if v.period.to_date else "no",
                _number(v.value),
                c.unit,
            )
            for c in comparisons
            for v in c.periods
        ),
    )


def breakdown_csv(lines: Sequence[BreakdownLine]) -> str:
    return _text(
        ("contract", "point", "name", "space", "resource", "share_percent", "value", "unit"),
        (
            (
                line.contract_id,
                line.info.point.id,
                line.info.point.name,
                line.space or "",
                line.info.resource,
                _number(line.share),
                _number(line.value),
                line.info.unit,
            )
            for line in lines
        ),
    )


def evidence_csv(event: Event, zone: ZoneInfo) -> str:
    return _text(
        ("time", "point", "value"),
        (
            (sample.ts.astimezone(zone).isoformat(), key, _number(value))
            for sample in event.evidence
            for key, value in sorted(sample.values.items())
        ),
    )


def peers_csv(found: PeerComparison) -> str:
    return _text(
        ("rank", "tenant", "use", "per_m2", "unit", "own"),
        (
            (rank, f.tenant_id or "", found.use or "", _number(f.per_m2), found.unit, "yes" if f.own else "no")
            for rank, f in enumerate(found.figures, start=1)
        ),
    )


def download(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
