"""The small integers a reading row stores instead of text: quality codes and the row's tag.

A row's `tag` is `quality_code | source_code << 3`. Source code 0 means the point's usual source
(`point_keys.source_id`, the source of its first reading), so a point read by one device, the usual
case, stores tag 0 for a measured reading: SQLite writes the integers 0 and 1 in no bytes at all.
Any other source stores its `sources.id` (1 and up). Codes are fixed: never renumber one.
"""

from __future__ import annotations

from typing import Final

from metering.readings import Quality

QUALITY_CODES: Final[dict[Quality, int]] = {
    Quality.MEASURED: 0,
    Quality.ESTIMATED: 1,
    Quality.MANUAL: 2,
    Quality.CORRECTED: 3,
    Quality.QUESTIONABLE: 4,
}
QUALITIES: Final[dict[int, Quality]] = {code: quality for quality, code in QUALITY_CODES.items()}
QUALITY_BITS: Final = 3
QUALITY_MASK: Final = (1 << QUALITY_BITS) - 1
USUAL_SOURCE: Final = 0


def tag(quality: Quality, source_id: int, usual_source_id: int | None) -> int:
    code = USUAL_SOURCE if source_id == usual_source_id else source_id
    return QUALITY_CODES[quality] | code << QUALITY_BITS


def quality_of(tag: int) -> Quality:
    return QUALITIES[tag & QUALITY_MASK]


def source_of(tag: int, usual_source_id: int | None) -> int:
    """The `sources.id` of a row's source: its own code, or the point's usual source for code 0."""
    code = tag >> QUALITY_BITS
    if code != USUAL_SOURCE:
        return code
    if usual_source_id is None:
        raise LookupError("a reading of the usual source of a point that has none")
    return usual_source_id
