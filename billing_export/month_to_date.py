"""Each tenant's month so far, for the BMS: consumption per resource and tariff zone, and its cost.

The same pricing as a close (`close_period` over the month, with intervals cut at `now`), so the
numbers the BMS shows on the 20th are what the statement will say for those 20 days:

- consumption per (resource, zone): the contract's energy lines (its own metering points, at its
  share), in the tariff's unit;
- cost so far: the net of its energy, common-area allocation and demand lines, without the fixed
  monthly fees (they are known from the lease, not from consumption) and without VAT.

A contract not in force this month has no values (the BMS sees no value rather than a made-up zero).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from billing_export.close import close_period
from billing_export.money import ZERO
from billing_export.period import Period
from billing_export.pricing import DynamicPrices
from billing_export.source import IntervalSource
from billing_export.statement import LineKind
from metering.exchanges import MeterExchange
from metering.readings import Interval, Reading
from point_mapping.derived_points import month_to_date_points
from point_mapping.model import SiteModel

SLOT = timedelta(minutes=15)
COSTED = frozenset({LineKind.ENERGY, LineKind.ALLOCATION, LineKind.DEMAND})


@dataclass(frozen=True)
class UpTo:
    """An `IntervalSource` that has seen nothing after `cutoff` (intervals end by then)."""

    source: IntervalSource
    cutoff: datetime

    async def intervals(self, point_id: str, start: datetime, end: datetime) -> Sequence[Interval]:
        found = await self.source.intervals(point_id, start, min(end, self.cutoff))
        return [i for i in found if i.start + SLOT <= self.cutoff]

    async def register_at(self, point_id: str, ts: datetime) -> Reading | None:
        return await self.source.register_at(point_id, min(ts, self.cutoff))

    async def replacements(self, meter_id: str) -> Sequence[MeterExchange]:
        return [e for e in await self.source.replacements(meter_id) if e.ts <= self.cutoff]


def current_period(site: SiteModel, now: datetime) -> Period:
    zone = site.site.zone
    return Period.parse(f"{now.astimezone(zone):%Y-%m}", zone)


async def month_to_date(
    site: SiteModel,
    now: datetime,
    source: IntervalSource,
    dynamic: Mapping[str, DynamicPrices] | None = None,
) -> dict[str, Decimal]:
    """Value per month-to-date point id (`point_mapping.derived_points`) of every contract in force."""
    points = month_to_date_points(site)
    if not points:
        return {}
    result = await close_period(site, current_period(site, now), UpTo(source, now), dynamic)
    values: dict[str, Decimal] = {}
    by_contract = {s.contract: s for s in result.statements}
    for point in points:
        statement = by_contract.get(point.contract)
        if statement is None:
            continue
        if point.resource is None:
            values[point.id] = sum((line.net for line in statement.lines if line.kind in COSTED), ZERO)
            continue
        values[point.id] = sum(
            (
                line.quantity
                for line in statement.lines
                if line.kind is LineKind.ENERGY and line.resource == point.resource and line.zone == point.zone
            ),
            ZERO,
        )
    return values
