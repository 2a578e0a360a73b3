"""The small integers a reading row stores instead of text, and its compact value.

A row's `tag` is `quality_code | scale << 3 | source_code << 5`:

- quality code: fixed per `Quality` (below); never renumber one.
- scale (SQLite only, 0 on PostgreSQL): 0 when `value` is the reading's value as it is; 1..3 when
  `value` holds the value times 10, 100 or 1000 as a whole number. SQLite writes a whole number in
  1 to 6 bytes instead of a REAL's 8 (a register of 1234.56 kWh: 3 bytes). A value is only scaled when
  dividing back gives exactly the same float, so no reading ever changes by being stored.
- source code 0 means the point's usual source (`point_keys.source_id`, the source of its first
  reading); any other source stores its `sources.id` (1 and up).

A measured reading of a point's usual device with a whole-number value thus has tag 0, which SQLite
writes in no bytes at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from metering.readings import Quality

QUALITY_CODES: Final[dict[Quality, int]] = {
    Quality.MEASURED: 0,
    Quality.ESTIMATED: 1,
    Quality.MANUAL: 2,
    Quality.CORRECTED: 3,
    Quality.QUESTIONABLE: 4,
}
QUALITIES: Final[dict[int, Quality]] = {code: quality for quality, code in QUALITY_CODES.items()}
QUALITY_MASK: Final = 0b111
SCALE_SHIFT: Final = 3
SCALE_MASK: Final = 0b11
SOURCE_SHIFT: Final = 5
USUAL_SOURCE: Final = 0
_FACTORS: Final = (1.0, 10.0, 100.0, 1000.0)  # exact in binary floating point
_EXACT_INTEGER: Final = float(2**53)  # beyond it a float cannot hold every whole number


def compact(value: float) -> tuple[float, int]:
    """(stored value, scale): the value as a whole number of tenths, hundredths or thousandths where
    that gives it back exactly, else as it is (whole numbers too: SQLite stores those compactly)."""
    value = float(value)  # an int given for a float is stored as the float it stands for
    if value.is_integer() or not math.isfinite(value):
        return value, 0
    for scale in (1, 2, 3):
        factor = _FACTORS[scale]
        scaled = float(round(value * factor))
        if abs(scaled) < _EXACT_INTEGER and scaled / factor == value:
            return scaled, scale
    return value, 0


def compact_many(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """`compact` over a batch at once, on arrays: (stored values, scales), same results."""
    stored, scales = compact_arrays(values)
    return stored.tolist(), scales.tolist()


def compact_arrays(values: Sequence[float]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """`compact_many` as numpy arrays."""
    given = np.asarray(values, dtype=np.float64)
    stored = given.copy()
    scales = np.zeros(len(given), dtype=np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        todo = np.isfinite(given) & (given != np.floor(given))
        for scale in (1, 2, 3):
            if not todo.any():
                break
            factor = _FACTORS[scale]
            scaled = np.round(given * factor)
            exact = todo & (np.abs(scaled) < _EXACT_INTEGER) & (scaled / factor == given)
            stored[exact] = scaled[exact]
            scales[exact] = scale
            todo &= ~exact
    return stored, scales


def value_of(stored: float, tag: int) -> float:
    scale = tag >> SCALE_SHIFT & SCALE_MASK
    return stored / _FACTORS[scale] if scale else stored


def quality_of(tag: int) -> Quality:
    return QUALITIES[tag & QUALITY_MASK]


def source_of(tag: int, usual_source_id: int | None) -> int:
    """The `sources.id` of a row's source: its own code, or the point's usual source for code 0."""
    code = tag >> SOURCE_SHIFT
    if code != USUAL_SOURCE:
        return code
    if usual_source_id is None:
        raise LookupError("a reading of the usual source of a point that has none")
    return usual_source_id
