"""CSV downloads of chart data: one header row, times in the site's zone with their UTC offset,
the unit in its own column so a spreadsheet keeps numbers as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from aiohttp import web

from bms_bridge.web.charts import DayProfile, HeatMap, Sample, local_time


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


def download(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
