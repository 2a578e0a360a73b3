"""Point keys and source names <-> the integers a reading row stores, cached per Store.

Ids are assigned on first write (insert ... on conflict do nothing, then read back), so several
processes writing one database agree on them. The cache only learns an id once the transaction that
made or read it has committed (`commit`), so a rolled-back write never leaves an id that is not there.
The methods take a synchronous connection: the SQLite batch runs on a worker thread, and async callers
go through `AsyncConnection.run_sync`.
`clear` forgets everything: the way back after a database was dropped and recreated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from metering.store import schema as t

_CHUNK = 500  # names per IN (...) list: well under every backend's parameter limit


@dataclass(frozen=True, slots=True)
class PointKey:
    id: int
    usual_source: int | None


@dataclass
class Learned:
    """Ids read or made inside one transaction; `Keys.commit` adopts them once it has committed."""

    points: dict[str, PointKey] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)


class Keys:
    def __init__(self, insert: Callable[[Any], Any]) -> None:
        self._insert = insert  # the dialect's insert (on conflict do nothing)
        self.points: dict[str, PointKey] = {}
        self.sources: dict[str, int] = {}
        self.source_names: dict[int, str] = {}

    def clear(self) -> None:
        self.points.clear()
        self.sources.clear()
        self.source_names.clear()

    def commit(self, learned: Learned) -> None:
        self.points.update(learned.points)
        self.sources.update(learned.sources)
        self.source_names.update({i: name for name, i in learned.sources.items()})

    def assign(self, conn: Connection, usual: Mapping[str, str], sources: Collection[str]) -> Learned:
        """Ids for every point in `usual` (point key -> the source of its first reading in this batch)
        and every name in `sources`, made where missing. Uncommitted: pass the result to `commit`."""
        learned = Learned()
        self._assign_sources(conn, sources, learned)
        missing = [point for point in usual if point not in self.points]
        if missing:
            c = t.point_keys.c
            conn.execute(
                self._insert(t.point_keys).on_conflict_do_nothing(index_elements=["key"]),
                [{"key": point, "source_id": learned.sources[usual[point]]} for point in missing],
            )
            for part in _chunks(missing):
                rows = conn.execute(select(c.id, c.key, c.source_id).where(c.key.in_(part)))
                learned.points.update({row.key: PointKey(row.id, row.source_id) for row in rows})
        for point in usual:
            if point in self.points:
                learned.points.setdefault(point, self.points[point])
        return learned

    def _assign_sources(self, conn: Connection, names: Collection[str], learned: Learned) -> None:
        for name in names:
            if name in self.sources:
                learned.sources.setdefault(name, self.sources[name])
        missing = [name for name in names if name not in learned.sources]
        if not missing:
            return
        c = t.sources.c
        conn.execute(
            self._insert(t.sources).on_conflict_do_nothing(index_elements=["name"]), [{"name": n} for n in missing]
        )
        for part in _chunks(missing):
            rows = conn.execute(select(c.id, c.name).where(c.name.in_(part)))
            learned.sources.update({row.name: row.id for row in rows})

    def points_of(self, conn: Connection, keys: Sequence[str]) -> list[PointKey | None]:
        """`point` of many keys, those not known yet read in one query per few hundred."""
        missing = sorted({key for key in keys if key not in self.points})
        c = t.point_keys.c
        for at in range(0, len(missing), 500):
            for row in conn.execute(select(c.key, c.id, c.source_id).where(c.key.in_(missing[at : at + 500]))):
                self.points[row.key] = PointKey(row.id, row.source_id)
        return [self.points.get(key) for key in keys]

    def point(self, conn: Connection, key: str) -> PointKey | None:
        """The point's id for reading, or None when it has never been written."""
        known = self.points.get(key)
        if known is not None:
            return known
        c = t.point_keys.c
        row = (conn.execute(select(c.id, c.source_id).where(c.key == key))).first()
        if row is None:
            return None
        found = PointKey(row.id, row.source_id)
        self.points[key] = found  # read from a committed row: safe to keep
        return found

    def load_sources(self, conn: Connection) -> None:
        """Read every source name (a short table): for decoding rows whose source is not cached yet."""
        rows = conn.execute(select(t.sources.c.id, t.sources.c.name)).all()
        self.source_names.update({row.id: row.name for row in rows})
        self.sources.update({row.name: row.id for row in rows})


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
