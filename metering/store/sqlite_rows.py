"""A batch of readings as SQLite `readings` rows, with as little Python per reading as possible.

The SQLite insert is fast enough that turning readings into rows was a third of the time of an
ingest (benchmarks/bench_store.py). Here each reading's fields are read once,
everything that repeats inside a batch (timestamps of one poll, a point's key, a quality) is
computed once per distinct value, and the rest is numpy over the batch. The rows and dirty spans are
the same as `store._Batch` makes (its tests hold this to that): `codes` explains the tag.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Connection, Dialect

from metering.readings import Reading
from metering.store.codes import QUALITY_CODES, SCALE_SHIFT, SOURCE_SHIFT, USUAL_SOURCE, compact_arrays
from metering.store.keys import Keys, Learned
from metering.store.timecodec import to_ms_many

Row = tuple[int, float, int, int]
DIRTY_COLUMNS: Final = ("point_id", "first_ts", "last_ts")  # the dirty upsert's parameters, in this order
_zone = attrgetter("tzinfo")


def sqlite_rows(
    readings: Sequence[Reading], keys: Keys, conn: Connection
) -> tuple[list[Row], dict[str, tuple[int, int]], Learned]:
    """(rows in READING_COLUMNS order, dirty span per point, ids learned in this transaction)."""
    # one comprehension per field: faster than transposing attrgetter tuples (in a batch and alone)
    point_ids = [r.point_id for r in readings]
    moments = [r.ts for r in readings]
    values = [r.value for r in readings]
    qualities = [r.quality for r in readings]
    sources = [r.source for r in readings]
    ms = _ms(moments)

    distinct_points = list(dict.fromkeys(point_ids))
    distinct_sources = set(sources)
    known_points, known_sources = keys.points, keys.sources
    learned = Learned()
    if any(p not in known_points for p in distinct_points) or any(s not in known_sources for s in distinct_sources):
        usual: dict[str, str] = {}
        for point, source in zip(point_ids, sources, strict=True):
            usual.setdefault(point, source)
        learned = keys.assign(conn, usual, distinct_sources)
    point_of = {**{p: known_points[p] for p in distinct_points if p in known_points}, **learned.points}
    source_of = {**{s: known_sources[s] for s in distinct_sources if s in known_sources}, **learned.sources}

    index_of = {point: i for i, point in enumerate(distinct_points)}
    which = np.fromiter(map(index_of.__getitem__, point_ids), dtype=np.int64, count=len(readings))
    ids = np.array([point_of[p].id for p in distinct_points], dtype=np.int64)
    usual_ids = np.array([_or_zero(point_of[p].usual_source) for p in distinct_points], dtype=np.int64)
    source_ids = np.fromiter(map(source_of.__getitem__, sources), dtype=np.int64, count=len(readings))
    quality_of = {q: QUALITY_CODES[q] for q in set(qualities)}
    quality_codes = np.fromiter(map(quality_of.__getitem__, qualities), dtype=np.int64, count=len(readings))

    stored, scales = compact_arrays(values)
    own_source = np.where(source_ids == usual_ids[which], USUAL_SOURCE, source_ids)
    tags = quality_codes | scales << SCALE_SHIFT | own_source << SOURCE_SHIFT
    rows = list(zip(ms.tolist(), stored.tolist(), ids[which].tolist(), tags.tolist(), strict=True))

    firsts = np.full(len(distinct_points), np.iinfo(np.int64).max, dtype=np.int64)
    lasts = np.full(len(distinct_points), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(firsts, which, ms)
    np.maximum.at(lasts, which, ms)
    spans = {
        point: (first, last)
        for point, first, last in zip(distinct_points, firsts.tolist(), lasts.tolist(), strict=True)
    }
    return rows, spans, learned


def _ms(moments: Sequence[datetime]) -> npt.NDArray[np.int64]:
    """Milliseconds of each moment, computed once per distinct instant: a poll stamps a device's
    points with one datetime and a batch spans few minutes, and the arithmetic costs several times a
    dict lookup. Moments of fixed-offset zones (UTC among them) are told apart by value; those of a
    named zone by identity only, as two equal values there can differ in `fold` (an hour apart) and
    still compare and hash alike."""
    if all(type(zone) is timezone for zone in set(map(_zone, moments))):
        return _ms_by(moments, moments)
    return _ms_by(list(map(id, moments)), moments)


def _ms_by(keys: Sequence[Hashable], moments: Sequence[datetime]) -> npt.NDArray[np.int64]:
    distinct = dict(zip(keys, moments, strict=True))
    if len(distinct) == len(keys):
        return np.array(to_ms_many(moments), dtype=np.int64)
    ms_of = dict(zip(distinct, to_ms_many(distinct.values()), strict=True))
    return np.fromiter(map(ms_of.__getitem__, keys), dtype=np.int64, count=len(keys))


def positional_sql(statement: Any, dialect: Dialect, columns: Sequence[str]) -> str:
    """SQLite SQL with `?` placeholders taking the parameters in `columns` order."""
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != tuple(columns):
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup!r}")
    return str(compiled.string)


def _or_zero(source_id: int | None) -> int:
    return 0 if source_id is None else source_id  # no usual source: every reading keeps its own code
