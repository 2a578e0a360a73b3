"""The writer's outage journal: batches of readings the database could not take, on local disk.

A folder of numbered segment files, each a run of records appended and fsync'd one batch at a time.
A record is `length (4 bytes) | crc32 (4 bytes) | payload`, the payload one batch as compact JSON
(point and source names once per batch, then parallel arrays; times as integer UTC microseconds,
values as JSON's exact float text). A crash mid-append leaves a torn or mismatching last record:
`open` ignores it (cutting the file back to the last whole record), so replay only ever sees whole
batches. Replay after a crash mid-replay stores some batches again; inserts are idempotent by point and
time, so nothing is stored twice.

Past `max_bytes` the oldest segment is deleted (its readings counted as dropped): the newest readings
are the ones kept, because a meter's register reading carries all consumption up to it (see
docs/operations.md, "When the database is down for a while").
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from metering.readings import Quality, Reading
from metering.store.codes import QUALITIES, QUALITY_CODES

log = logging.getLogger(__name__)

_HEADER: Final = struct.Struct("<II")
_SUFFIX: Final = ".journal"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Entry:
    """One batch in the journal; `seq` is the writer's sequence number (None: from an earlier run)."""

    segment: int
    offset: int
    length: int
    count: int
    seq: int | None
    first: datetime | None  # the batch's earliest and latest reading times (for the log of a drop)
    last: datetime | None


@dataclass(frozen=True, slots=True)
class Dropped:
    readings: int
    first: datetime | None
    last: datetime | None
    seqs: tuple[int, ...]  # the writer's sequence numbers of the dropped batches of this run


def encode(readings: list[Reading]) -> bytes:
    points: dict[str, int] = {}
    sources: dict[str, int] = {}
    body: dict[str, list[int] | list[float] | list[str]] = {
        "t": [(r.ts - _EPOCH) // _US for r in readings],
        "v": [float(r.value) for r in readings],
        "q": [QUALITY_CODES[r.quality] for r in readings],
        "p": [points.setdefault(r.point_id, len(points)) for r in readings],
        "s": [sources.setdefault(r.source, len(sources)) for r in readings],
    }
    body["points"], body["sources"] = list(points), list(sources)
    return json.dumps(body, separators=(",", ":")).encode()


def decode(payload: bytes) -> list[Reading]:
    body = json.loads(payload)
    points: list[str] = body["points"]
    sources: list[str] = body["sources"]
    qualities: dict[int, Quality] = QUALITIES
    return [
        Reading(points[p], _EPOCH + t * _US, float(v), qualities[q], sources[s])
        for t, v, q, p, s in zip(body["t"], body["v"], body["q"], body["p"], body["s"], strict=True)
    ]


class Journal:
    """The writer calls it from worker threads (`asyncio.to_thread`); one lock orders those calls."""

    def __init__(self, folder: Path, *, max_bytes: int, segment_bytes: int) -> None:
        if segment_bytes < 1 or max_bytes < segment_bytes:
            raise ValueError("journal bounds: need 1 <= segment_bytes <= max_bytes")
        self.folder = folder
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.entries: deque[Entry] = deque()  # not yet stored, oldest first
        self._sizes: dict[int, int] = {}  # segment -> bytes on disk
        self._open_refs: dict[int, int] = {}  # segment -> entries not yet consumed
        self._write_segment = 0
        self._busy: Entry | None = None  # handed out by `take`, not yet consumed: its segment stays
        self._unsequenced = 0  # entries from an earlier run (seq None): always the oldest
        self._lock = threading.RLock()
        self.readings = 0  # in entries

    @property
    def bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def first_seq(self) -> int | None:
        """The sequence number of the oldest batch of this run still in the journal."""
        with self._lock:
            if len(self.entries) > self._unsequenced:
                return self.entries[self._unsequenced].seq
            return None

    def _path(self, segment: int) -> Path:
        return self.folder / f"{segment:08d}{_SUFFIX}"

    def open(self) -> int:
        """Read what an earlier run left (cutting off a torn last record); returns its readings."""
        with self._lock:
            return self._open()

    def _open(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        segments = sorted(int(p.stem) for p in self.folder.glob(f"*{_SUFFIX}") if p.stem.isdigit())
        for segment in segments:
            path = self._path(segment)
            data = path.read_bytes()
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, crc = _HEADER.unpack_from(data, offset)
                payload = data[offset + _HEADER.size : offset + _HEADER.size + length]
                if len(payload) < length or zlib.crc32(payload) != crc:
                    break
                try:
                    batch = decode(payload)
                except (ValueError, KeyError, TypeError, IndexError):
                    break
                self._add(_entry(segment, offset, _HEADER.size + length, batch, None))
                offset += _HEADER.size + length
            if offset < len(data):
                log.warning("%s: %d bytes of a torn last record ignored", path, len(data) - offset)
                with path.open("r+b") as file:
                    file.truncate(offset)
                    os.fsync(file.fileno())
            self._sizes[segment] = offset
            self._open_refs.setdefault(segment, 0)
            self._release_if_done(segment, keep_writing=False)
        self._write_segment = (segments[-1] + 1) if segments else 1
        return self.readings

    def _add(self, entry: Entry) -> None:
        if entry.seq is None:
            self._unsequenced += 1
        self.entries.append(entry)
        self._open_refs[entry.segment] = self._open_refs.get(entry.segment, 0) + 1
        self.readings += entry.count

    def append(self, readings: list[Reading], seq: int | None) -> list[Dropped]:
        """Append one batch, fsync'd; drop the oldest segments past the bound (returned)."""
        with self._lock:
            return self._append(readings, seq)

    def _append(self, readings: list[Reading], seq: int | None) -> list[Dropped]:
        payload = encode(readings)
        record = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        segment = self._write_segment
        size = self._sizes.get(segment, 0)
        if size and size + len(record) > self.segment_bytes:
            segment = self._write_segment = segment + 1
            size = 0
        path = self._path(segment)
        new = not path.exists()
        with path.open("ab") as file:
            file.write(record)
            file.flush()
            os.fsync(file.fileno())
        if new:  # the file's name must survive a crash too
            _fsync_folder(self.folder)
        self._sizes[segment] = size + len(record)
        self._add(_entry(segment, size, len(record), readings, seq))
        dropped = []
        while self.bytes > self.max_bytes:
            busy = self._busy.segment if self._busy is not None else None
            # never the batch being stored, nor the segment just written (the newest are kept)
            candidates = [s for s in self._sizes if s not in (busy, self._write_segment)]
            if not candidates:
                break
            dropped.append(self._drop(min(candidates)))
        return dropped

    def _drop(self, oldest: int) -> Dropped:
        gone = [e for e in self.entries if e.segment == oldest]
        kept = [e for e in self.entries if e.segment != oldest]
        self.entries = deque(kept)
        self.readings -= sum(e.count for e in gone)
        self._unsequenced -= sum(1 for e in gone if e.seq is None)
        self._open_refs.pop(oldest, None)
        self._sizes.pop(oldest, None)
        self._path(oldest).unlink(missing_ok=True)
        firsts = [e.first for e in gone if e.first is not None]
        lasts = [e.last for e in gone if e.last is not None]
        return Dropped(
            sum(e.count for e in gone),
            min(firsts, default=None),
            max(lasts, default=None),
            tuple(e.seq for e in gone if e.seq is not None),
        )

    def read(self, entry: Entry) -> list[Reading]:
        with self._path(entry.segment).open("rb") as file:
            file.seek(entry.offset + _HEADER.size)
            return decode(file.read(entry.length - _HEADER.size))

    def take(self) -> tuple[Entry, list[Reading]] | None:
        """The oldest batch, still counted until `consume`; None when the journal is empty."""
        with self._lock:
            if not self.entries:
                return None
            entry = self._busy = self.entries[0]
            return entry, self.read(entry)

    def consume(self, entry: Entry) -> None:
        """`entry` (the head `take` gave) is stored: forget it; delete its segment once all of it is."""
        with self._lock:
            self._busy = None
            if not self.entries or self.entries[0] != entry:
                return
            self.entries.popleft()
            self.readings -= entry.count
            if entry.seq is None:
                self._unsequenced -= 1
            self._open_refs[entry.segment] -= 1
            self._release_if_done(entry.segment, keep_writing=True)

    def _release_if_done(self, segment: int, *, keep_writing: bool) -> None:
        if self._open_refs.get(segment, 0) > 0 or (keep_writing and segment == self._write_segment):
            return
        self._path(segment).unlink(missing_ok=True)
        self._sizes.pop(segment, None)
        self._open_refs.pop(segment, None)

    def clear_written(self) -> None:
        """Everything is stored: remove the segment still open for writing too."""
        with self._lock:
            if not self.entries:
                for segment in list(self._sizes):
                    self._path(segment).unlink(missing_ok=True)
                self._sizes.clear()
                self._open_refs.clear()


def _entry(segment: int, offset: int, length: int, readings: list[Reading], seq: int | None) -> Entry:
    times = [r.ts for r in readings]
    return Entry(segment, offset, length, len(readings), seq, min(times, default=None), max(times, default=None))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
