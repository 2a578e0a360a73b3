"""Verification: recompute intervals from raw readings and report every stored interval that differs.

Frozen periods are compared with their corrections taken into account: a frozen slot whose
recomputation differs is expected to have a correction recording the new value, and is reported
only when it has none (or a stale one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from metering.consumption import (
    ConsumptionRepository,
    FrozenPeriod,
    IntervalCorrection,
    compute_pieces,
    refresh_order,
)
from metering.readings import Interval
from point_mapping.loader import LoadedSite


class VerifyRepository(ConsumptionRepository, Protocol):
    async def frozen_periods(self) -> list[FrozenPeriod]: ...
    async def corrections(self, *, period: str | None = None) -> list[IntervalCorrection]: ...


@dataclass(frozen=True, slots=True)
class Discrepancy:
    point_id: str
    start: datetime
    stored: Interval | None
    recomputed: Interval | None
    frozen: bool  # in a frozen period, with no correction recording the recomputed value

    def describe(self) -> str:
        def show(i: Interval | None) -> str:
            return "none" if i is None else f"{i.value:.6g} ({i.quality.value})"

        where = " (frozen, no correction recorded)" if self.frozen else ""
        values = f"stored {show(self.stored)}, recomputed {show(self.recomputed)}"
        return f"{self.point_id} {self.start.isoformat()}: {values}{where}"


async def verify(site: LoadedSite, repo: VerifyRepository, start: datetime, end: datetime) -> list[Discrepancy]:
    """Every slot in [start, end) where the stored interval and the recomputation disagree."""
    frozen = await repo.frozen_periods()
    corrected = {(c.point_id, c.start): c for c in await repo.corrections()}
    found: list[Discrepancy] = []
    async for result in compute_pieces(site, repo, start, end, refresh_order(site, None), store=False):
        stored = {i.start: i for i in await repo.intervals(result.point_id, result.start, result.end)}
        fresh = {i.start: i for i in result.intervals}
        for slot in sorted(set(stored) | set(fresh)):
            old, new = stored.get(slot), fresh.get(slot)
            if _same(old, new):
                continue
            in_frozen = any(p.start <= slot < p.end for p in frozen)
            correction = corrected.get((result.point_id, slot))
            if in_frozen and correction is not None and _same(correction.recomputed, new):
                continue
            found.append(Discrepancy(result.point_id, slot, old, new, in_frozen))
    return found


def _same(a: Interval | None, b: Interval | None) -> bool:
    if a is None or b is None:
        return a is b
    # Recomputed in other windows the float sums may differ in the last bits; 1e-9 is far below any meter.
    return a.quality == b.quality and math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)
