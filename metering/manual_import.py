"""Manual meter readings from CSV: check every row, then either all readings or every problem found.

The file, UTF-8 (an Excel byte-order mark is fine), comma-separated, with a header naming its columns:

    meter,timestamp,value,note
    GAS-1,2025-03-01T08:00:00+01:00,1234.5,read by caretaker
    GAS-1.volume,2025-04-01T08:05:00+02:00,1301.0,

- `meter` or `point` (either column, or both with one of them filled per row): a meter id stands for the
  meter's `reading` register point (a manual meter) or else its single cumulative point; a point id is
  taken as it is. A value given for a meter is what its dial shows (the register's unit, before pulse
  weight or CT ratio); a value given for a point is already in the point's unit.
- `timestamp`: ISO 8601 with its UTC offset (`Z` or `+01:00`); a time without offset is ambiguous
  twice a year and is refused.
- `value`: a non-negative number with a decimal point.
- `note` (optional): kept with the reading where the store can hold it.

Refused, each with its line: unknown ids, virtual points, missing offsets, times before the meter was
installed or in the future (`metering.time_bounds`), values that are not numbers or negative, the same
point and time twice, and empty lines. How each value fits the readings already stored (a register
that goes down, a value beyond the register or the meter's cap) is checked by `metering.course_check`
with the validation that counts them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from metering.progress import Progress, Steps
from metering.readings import Quality, Reading
from metering.time_bounds import bounds_for
from point_mapping.model import MeterProfile, Point, SiteModel
from point_mapping.registers import MANUAL_REGISTER, PointMeasure, point_measure
from point_mapping.units import convert

ID_COLUMNS: Final = ("meter", "point")
REQUIRED_COLUMNS: Final = ("timestamp", "value")
OPTIONAL_COLUMNS: Final = ("note",)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line of the file; the header is line 1
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ManualRows:
    """What a file gives: the readings of the rows that passed (and their notes), and every problem.

    Nothing is imported unless `ok`; the readings of a file with errors are there so the rows that
    passed can still be checked against the stored course, and every problem reported at once.
    """

    readings: tuple[Reading, ...] = ()
    errors: tuple[RowError, ...] = ()
    notes: Mapping[tuple[str, datetime], str] = field(default_factory=dict)  # (point_id, ts) -> note
    lines: Mapping[tuple[str, datetime], int] = field(default_factory=dict)  # (point_id, ts) -> line

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    point: Point
    measure: PointMeasure
    ts: datetime
    value: float  # in the point's unit
    note: str


def parse_manual_csv(
    site: SiteModel,
    text: str,
    filename: str,
    profiles: Mapping[str, MeterProfile] | None = None,
    *,
    now: datetime,
    progress: Progress | None = None,
) -> ManualRows:
    """Check every row of `text` on its own: columns, point, time (within `metering.time_bounds` at
    `now`), value. How the values fit the readings already stored is `metering.course_check`'s job.
    `progress` hears one step per row after the header (a file of K rows: K steps)."""
    known = profiles or {}
    reader = csv.reader(text.removeprefix("\ufeff").splitlines())
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        return ManualRows(errors=(RowError(1, _header_help("the file is empty")),))
    columns = [cell.strip().lower() for cell in header]
    header_problem = _check_header(columns)
    if header_problem:
        return ManualRows(errors=(RowError(1, header_problem),))

    errors: list[RowError] = []
    rows: list[_Row] = []
    seen: dict[tuple[str, datetime], int] = {}
    split = list(_rows(reader, errors))  # split first: the count of rows is the progress total
    steps = Steps(progress, len(split), "checking rows")
    for line, cells in split:
        steps.step()
        if not any(cell.strip() for cell in cells):
            errors.append(RowError(line, "empty line; remove it"))
            continue
        if len(cells) != len(columns):
            errors.append(RowError(line, f"{len(cells)} values for {len(columns)} columns ({', '.join(columns)})"))
            continue
        cell = {name: value.strip() for name, value in zip(columns, cells, strict=True)}
        problems, row = _row(site, known, cell, line, now)
        errors.extend(RowError(line, problem) for problem in problems)
        if row is None:
            continue
        key = (row.point.id, row.ts)
        if key in seen:
            errors.append(
                RowError(line, f"point {row.point.id} at {row.ts.isoformat()} is already given on line {seen[key]}")
            )
            continue
        seen[key] = line
        rows.append(row)

    source = f"csv:{filename}"
    readings = tuple(Reading(r.point.id, r.ts, r.value, Quality.MANUAL, source) for r in rows)
    notes = {(r.point.id, r.ts): r.note for r in rows if r.note}
    lines = {(r.point.id, r.ts): r.line for r in rows}
    return ManualRows(readings, tuple(sorted(errors, key=lambda e: e.line)), notes, lines)


def _header_help(problem: str) -> str:
    return f"{problem}; the first line must name the columns, e.g. 'meter,timestamp,value,note'"


def _check_header(columns: list[str]) -> str | None:
    allowed = (*ID_COLUMNS, *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        return _header_help(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        return _header_help(f"column(s) {', '.join(repeated)} given twice")
    if not any(c in columns for c in ID_COLUMNS):
        return _header_help("no 'meter' or 'point' column")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return _header_help(f"no {' or '.join(repr(c) for c in missing)} column")
    return None


def _row(
    site: SiteModel, profiles: Mapping[str, MeterProfile], cell: dict[str, str], line: int, now: datetime
) -> tuple[list[str], _Row | None]:
    problems: list[str] = []
    target = _target(site, profiles, cell.get("meter", ""), cell.get("point", ""))
    if isinstance(target, str):
        problems.append(target)
    ts = _timestamp(cell["timestamp"])
    if isinstance(ts, str):
        problems.append(ts)
    value = _value(cell["value"])
    if isinstance(value, str):
        problems.append(value)
    if problems or isinstance(target, str) or isinstance(ts, str) or isinstance(value, str):
        return problems, None
    point, measure, from_meter = target
    late_or_early = bounds_for(site, site.meter_by_id.get(point.meter or "")).problem(ts, now)
    if late_or_early is not None:
        return [late_or_early], None
    if from_meter:  # the dial's value: apply pulse weight or CT ratio, then the point's unit
        value = convert(value * measure.multiplier, measure.source_unit, measure.unit)
    return [], _Row(line, point, measure, ts, value, cell.get("note", ""))


def _target(
    site: SiteModel, profiles: Mapping[str, MeterProfile], meter_id: str, point_id: str
) -> tuple[Point, PointMeasure, bool] | str:
    if meter_id and point_id:
        return "give a meter or a point, not both"
    if point_id:
        point = site.point_by_id.get(point_id)
        if point is None:
            return f"unknown point '{point_id}'"
        if point.is_virtual:
            return f"point '{point_id}' is computed from other points (virtual); it cannot be read by hand"
        measure = point_measure(site, point, profiles)
        if measure is None:
            return f"point '{point_id}' refers to a register its device does not offer"
        return point, measure, False
    if not meter_id:
        return "no meter or point given"
    meter = site.meter_by_id.get(meter_id)
    if meter is None:
        return f"unknown meter '{meter_id}'"
    points = [p for p in site.points_of_meter(meter_id) if (m := point_measure(site, p, profiles)) and m.cumulative]
    by_register = [p for p in points if p.register_name == MANUAL_REGISTER]
    chosen = by_register or points
    if len(chosen) != 1:
        names = ", ".join(p.id for p in chosen) or "none"
        return f"meter '{meter_id}' has {len(chosen)} cumulative points ({names}); name the point instead"
    found = point_measure(site, chosen[0], profiles)
    assert found is not None  # filtered above
    return chosen[0], found, True


def _rows(reader: Any, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """The reader's rows with the line each ends on; a row the csv module cannot split (a field beyond
    its size limit, a stray quote) is an error on its line and the rest of the file is still read."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(reader, "line_num", 0)
            errors.append(RowError(line, f"cannot split this line into values ({exc}); a reading row is a few fields"))
            continue
        yield reader.line_num, cells


def _timestamp(text: str) -> datetime | str:
    if not text:
        return "no timestamp"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return f"timestamp {text!r} is not ISO 8601; write e.g. 2025-03-04T10:30:00+01:00"
    if moment.tzinfo is None:
        return f"timestamp {text!r} has no UTC offset; write e.g. {text}+01:00 or {text}Z"
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 or 9999-12-31T23:59-05:00: no such instant in UTC
        return f"timestamp {text!r} is outside the calendar; check the year"


def _value(text: str) -> float | str:
    if not text:
        return "no value"
    try:
        value = float(text)
    except ValueError:
        hint = " (use a decimal point, not a comma)" if "," in text else ""
        return f"value {text!r} is not a number{hint}"
    if not math.isfinite(value):
        return f"value {text!r} is not a finite number"
    if value < 0:
        return f"value {text} is negative; a meter register does not show negative readings"
    return value


__all__ = ["ManualRows", "RowError", "parse_manual_csv"]
