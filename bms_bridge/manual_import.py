"""Import manual meter readings from a CSV file: all rows or none (see `metering.manual_import`).

Rows are checked in full before anything is written; the readings then go to the store in one
`insert_readings` call, which is one transaction. Importing the same file again inserts nothing and
reports the rows as already present. A row whose point already has a *different* value stored at the
same time is an error (the store keeps the first value; silently keeping it would hide the typo).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from metering.consumption import is_cumulative, refresh_dirty
from metering.course_check import reading_conflicts
from metering.exchanges import format_register
from metering.manual_import import RowError, parse_manual_csv
from metering.progress import Progress, Steps
from metering.readings import Reading
from metering.store import ConsumptionStore, Store
from metering.store.timecodec import to_ms
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

_STORE_RESOLUTION = timedelta(milliseconds=1)  # the store keeps epoch milliseconds


@dataclass(frozen=True)
class ImportResult:
    path: Path
    inserted: int = 0
    already_present: int = 0
    errors: tuple[RowError, ...] = ()
    notes_dropped: int = 0
    messages: tuple[str, ...] = field(default=())  # things a person should know, e.g. notes not kept

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        """Each problem as `FILE:LINE: reason`, the form editors and CI logs link to."""
        return [f"{self.path}:{error.line}: {error.message}" for error in self.errors]


def _decode(content: bytes) -> str | RowError:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return RowError(line, "not UTF-8 text; save the file as 'CSV UTF-8'")


async def import_readings(
    site: LoadedSite, store: Store, path: str | Path, *, now: datetime | None = None, progress: Progress | None = None
) -> ImportResult:
    """Check and import `path`; with any bad row nothing is stored and every problem is returned.
    `progress` hears the rows checked (one step each), then storing and recomputing intervals."""
    file = Path(path)
    try:
        content = await asyncio.to_thread(file.read_bytes)
    except OSError as exc:
        return ImportResult(file, errors=(RowError(0, f"cannot read the file: {exc.strerror or exc}"),))
    return await import_content(site, store, content, file, now=now, progress=progress)


async def import_content(
    site: LoadedSite,
    store: Store,
    content: bytes,
    file: Path,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """As `import_readings`, for a file's bytes already read (an upload); `file` names it in the
    results and in the readings' source."""
    text = _decode(content)
    if isinstance(text, RowError):
        return ImportResult(file, errors=(text,))
    # in a thread: a long file's check must not stop the event loop (the web app answers progress polls)
    rows = await asyncio.to_thread(
        parse_manual_csv, site.model, text, file.name, site.profiles, now=now or datetime.now(UTC), progress=progress
    )
    repo = ConsumptionStore(store)
    errors = [*rows.errors, *await _conflicts(store, rows.readings, rows.lines)]
    errors.extend(await _course_conflicts(site, repo, rows.readings, rows.lines))
    if errors:
        log.info("%s: %d problems, nothing imported", file, len(errors))
        return ImportResult(file, errors=tuple(sorted(errors, key=lambda e: e.line)))

    steps = Steps(progress, 2, "storing")
    inserted = await store.insert_readings(rows.readings)
    steps.step()
    await refresh_dirty(site, repo)  # intervals follow the data: the imported span is recomputed now
    steps.step()
    messages: list[str] = []
    # The readings table has no column for a note (metering/store/schema.py): say so, do not hide it.
    if rows.notes:
        messages.append(
            f"{len(rows.notes)} note(s) not stored: the reading store has no place for notes yet; "
            "keep the file if the notes matter"
        )
    result = ImportResult(
        file,
        inserted=inserted,
        already_present=len(rows.readings) - inserted,
        notes_dropped=len(rows.notes),
        messages=tuple(messages),
    )
    log.info("%s: %d readings inserted, %d already present", file, result.inserted, result.already_present)
    return result


async def _conflicts(
    store: Store, readings: tuple[Reading, ...], lines: Mapping[tuple[str, datetime], int]
) -> list[RowError]:
    """Rows whose point already has another value stored at the same time."""
    by_point: dict[str, list[Reading]] = {}
    for reading in readings:
        by_point.setdefault(reading.point_id, []).append(reading)
    errors: list[RowError] = []
    for point_id, wanted in by_point.items():
        start = min(r.ts for r in wanted)
        end = max(r.ts for r in wanted) + _STORE_RESOLUTION
        stored = {to_ms(r.ts): r for r in await store.readings(point_id, start, end)}
        for reading in wanted:
            existing = stored.get(to_ms(reading.ts))
            if existing is None or math.isclose(existing.value, reading.value, rel_tol=1e-12, abs_tol=1e-12):
                continue
            errors.append(
                RowError(
                    lines[(reading.point_id, reading.ts)],
                    f"{point_id} at {reading.ts.isoformat()} is already stored with value "
                    f"{format_register(existing.value)} "
                    f"({existing.quality.value}, {existing.source or 'unknown source'}); not replacing it "
                    f"with {format_register(reading.value)}",
                )
            )
    return errors


async def _course_conflicts(
    site: LoadedSite, repo: ConsumptionStore, readings: tuple[Reading, ...], lines: Mapping[tuple[str, datetime], int]
) -> list[RowError]:
    """Rows that break their register's course, checked against the stored readings too."""
    by_point: dict[str, list[Reading]] = {}
    for reading in readings:
        if is_cumulative(site, site.model.point_by_id[reading.point_id]):
            by_point.setdefault(reading.point_id, []).append(reading)
    errors: list[RowError] = []
    for point_id, new in by_point.items():
        for ts, message in (await reading_conflicts(site, repo, point_id, new)).items():
            errors.append(RowError(lines[(point_id, ts)], f"{point_id}: {message}"))
    return errors


__all__ = ["ImportResult", "import_content", "import_readings"]
