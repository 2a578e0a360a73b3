"""`PeriodLedger` over the meter-data core's frozen periods and interval corrections.

A period is frozen as the calendar month [local midnight of the 1st, local midnight of the next 1st)
in the site's zone, so a DST month freezes 743 or 745 hours. Once frozen its intervals never change:
a recomputation that differs lands in `interval_corrections`, read back here as `Correction`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from billing_export.period import Period
from billing_export.source import Correction
from metering.store.consumption_store import ConsumptionStore


@dataclass(frozen=True)
class StorePeriodLedger:
    consumption: ConsumptionStore
    zone: ZoneInfo

    async def freeze(self, period: str, by: str) -> None:
        month = Period.parse(period, self.zone)
        await self.consumption.freeze_period(period, month.start, month.end, by=by)

    async def is_frozen(self, period: str) -> bool:
        return any(p.period == period for p in await self.consumption.frozen_periods())

    async def corrections_since(self, period: str) -> list[Correction]:
        """Every recorded correction of a frozen period up to and including `period` ('YYYY-MM' sorts)."""
        return [
            Correction(
                point_id=c.point_id,
                start=c.start,
                old_value=c.frozen.value if c.frozen is not None else None,
                new_value=c.recomputed.value if c.recomputed is not None else None,
                period=c.period,
                new_quality=c.recomputed.quality if c.recomputed is not None else None,
            )
            for c in await self.consumption.corrections()
            if c.period <= period
        ]
