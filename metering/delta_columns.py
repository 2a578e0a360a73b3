"""Consumption deltas as columns (integer microseconds, values, quality ranks): what the counters hand
to the interval builder, without one Python object per reading on the way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from metering.quality import by_rank, rank
from metering.readings import Quality

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# float seconds × 1e6 is exact to the microsecond only while |µs| < 2^53 (years ~1685 to ~2255)
_FLOAT_SAFE_S = 2.0**53 / 1e6

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Ranks = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class Delta:
    """Consumption in engineering units between two readings, over (start_ts, end_ts]."""

    start_ts: datetime
    end_ts: datetime
    value: float
    quality: Quality = Quality.MEASURED


def microseconds(moments: Sequence[datetime]) -> Ints:
    """Aware instants as integer microseconds since the epoch, exactly."""
    seconds = np.fromiter((m.timestamp() for m in moments), dtype=np.float64, count=len(moments))
    if len(seconds) and float(np.abs(seconds).max()) < _FLOAT_SAFE_S:
        return np.rint(seconds * 1e6).astype(np.int64)
    return np.fromiter(((m - EPOCH) // _US for m in moments), dtype=np.int64, count=len(moments))


def instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True, eq=False)
class DeltaColumns:
    """Deltas over (start_us, end_us], in time order; `ranks` are `metering.quality.rank` values."""

    start_us: Ints
    end_us: Ints
    values: Floats
    ranks: Ranks

    @classmethod
    def empty(cls) -> DeltaColumns:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int8))

    @classmethod
    def of(cls, deltas: Iterable[Delta]) -> DeltaColumns:
        items = list(deltas)
        return cls(
            microseconds([d.start_ts for d in items]),
            microseconds([d.end_ts for d in items]),
            np.array([d.value for d in items], dtype=np.float64),
            np.array([rank(d.quality) for d in items], dtype=np.int8),
        )

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeltaColumns):
            return NotImplemented
        return all(
            np.array_equal(a, b)
            for a, b in (
                (self.start_us, other.start_us),
                (self.end_us, other.end_us),
                (self.values, other.values),
                (self.ranks, other.ranks),
            )
        )

    __hash__ = None  # type: ignore[assignment]

    def total(self) -> float:
        return float(self.values.sum())

    def deltas(self) -> tuple[Delta, ...]:
        return tuple(
            Delta(instant(s), instant(e), v, by_rank[q])
            for s, e, v, q in zip(
                self.start_us.tolist(), self.end_us.tolist(), self.values.tolist(), self.ranks.tolist(), strict=True
            )
        )
