"""Checks of new data against the readings already stored, with the same validation that counts them.

Manual readings and meter exchanges are refused when they would break a register's course: run the
counter validation over the stored readings around them, once without and once with the new data;
any fault that only the new data brings (a drop, a value beyond the register or the cap, a stored
reading turned into a glitch, an exchange that fits no step) is a reason to refuse, with a message
that prints the values as written and says how to fix it. One rule for every path: polling and LPWAN
readings go through the same `normalise` when they are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from metering.consumption import (
    ConsumptionRepository,
    counter_spec,
    cumulative_point,
    declared_exchanges,
    readings_with_context,
)
from metering.counters import FaultKind, normalise
from metering.exchanges import EXCHANGE_TIME_TOLERANCE, MeterExchange, format_register, merge_exchanges
from metering.readings import Reading
from point_mapping.loader import LoadedSite

# Faults a new reading may bring without being refused: they explain, they do not contradict.
_ACCEPTABLE = frozenset({FaultKind.EXCHANGE_TIME_ADJUSTED, FaultKind.COUNTER_RESET})
_TICK = timedelta(milliseconds=1)


async def reading_conflicts(
    site: LoadedSite, repo: ConsumptionRepository, point_id: str, new: Sequence[Reading]
) -> dict[datetime, str]:
    """New readings of one cumulative point that break its course, by timestamp, with the reason."""
    point, measure = cumulative_point(site, point_id)
    assert point.meter is not None  # manual rows target physical points
    meter = site.model.meter_by_id[point.meter]
    spec = counter_spec(site, meter, measure)
    exchanges = merge_exchanges(declared_exchanges(meter), await repo.exchanges(meter.id))
    first, last = min(r.ts for r in new), max(r.ts for r in new)
    stored = await _stored_around(repo, point_id, first, last)
    new_times = {r.ts for r in new}
    merged = sorted([*(r for r in stored if r.ts not in new_times), *new], key=lambda r: r.ts)
    before = {(f.ts, f.kind) for f in normalise(stored, spec, exchanges).faults}
    conflicts: dict[datetime, str] = {}
    for fault in normalise(merged, spec, exchanges).faults:
        if (fault.ts, fault.kind) in before or fault.kind in _ACCEPTABLE:
            continue
        culprit = fault.ts if fault.ts in new_times else min(new_times, key=lambda t: abs(t - fault.ts))
        neighbours = _neighbours(stored, culprit)
        fix = (
            "fix the value, or record the exchange first (replace-meter or meters: replacements:) if the meter"
            " was changed"
        )
        conflicts.setdefault(culprit, f"{fault.message}; stored readings around it: {neighbours or 'none'}; {fix}")
    return conflicts


async def exchange_contradictions(site: LoadedSite, repo: ConsumptionRepository, exchange: MeterExchange) -> list[str]:
    """Why an exchange does not fit the stored readings of its meter's points (empty when it fits)."""
    meter = site.model.meter_by_id[exchange.meter_id]
    known = merge_exchanges(declared_exchanges(meter), await repo.exchanges(meter.id))
    if any(exchange.same_as(k) for k in known):
        return []
    problems: list[str] = []
    for point in site.model.points_of_meter(meter.id):
        try:
            _, measure = cumulative_point(site, point.id)
        except ValueError:
            continue
        spec = counter_spec(site, meter, measure)
        window = EXCHANGE_TIME_TOLERANCE
        stored = await _stored_around(repo, point.id, exchange.ts - window, exchange.ts + window)
        before = {(f.ts, f.kind) for f in normalise(stored, spec, known).faults}
        after = normalise(stored, spec, merge_exchanges(known, [exchange])).faults
        problems.extend(
            f"{point.id}: {f.message}" for f in after if (f.ts, f.kind) not in before and f.kind not in _ACCEPTABLE
        )
    return problems


async def _stored_around(repo: ConsumptionRepository, point_id: str, first: datetime, last: datetime) -> list[Reading]:
    return await readings_with_context(repo, point_id, first, last + _TICK)  # `last` included


def _neighbours(stored: Sequence[Reading], ts: datetime) -> str:
    older = [r for r in stored if r.ts < ts][-1:]
    newer = [r for r in stored if r.ts > ts][:1]
    return ", ".join(f"{format_register(r.value)} at {r.ts.isoformat()}" for r in [*older, *newer])
