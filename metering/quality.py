"""One ordering of `Quality`, from most to least trustworthy, used wherever values are combined."""

from __future__ import annotations

from collections.abc import Iterable

from metering.readings import Quality

# A combined value is only as good as its worst part. Hand-typed beats edited beats interpolated;
# "questionable" (failed a plausibility check) is the worst.
_RANK: dict[Quality, int] = {
    Quality.MEASURED: 0,
    Quality.MANUAL: 1,
    Quality.CORRECTED: 2,
    Quality.ESTIMATED: 3,
    Quality.QUESTIONABLE: 4,
}


def rank(quality: Quality) -> int:
    """Position of `quality` in the trust order: 0 is best (measured)."""
    return _RANK[quality]


def worst(first: Quality, *others: Quality) -> Quality:
    """The least trustworthy of the given qualities."""
    result = first
    for quality in others:
        if _RANK[quality] > _RANK[result]:
            result = quality
    return result


def worst_of(qualities: Iterable[Quality]) -> Quality:
    """The least trustworthy quality in `qualities`; MEASURED when there are none."""
    return worst(Quality.MEASURED, *qualities)


# Qualities by rank, for code that keeps ranks in arrays (`by_rank[rank(q)] is q`).
by_rank: tuple[Quality, ...] = tuple(sorted(_RANK, key=_RANK.__getitem__))
