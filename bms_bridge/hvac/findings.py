"""Evaluate the HVAC rules over a period and keep the `hvac.*` events in the store in step with them.

New findings are added, open ones get their evidence and wasted energy so far, and open findings whose
condition has cleared are closed. Acknowledgements are never touched here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bms_bridge.hvac.inputs import gather, rule_settings
from metering.events import Condition, reconcile
from metering.hvac.evaluate import NotCovered, evaluate
from metering.store import Event, Store
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

KIND_PREFIX = "hvac."


@dataclass(frozen=True, slots=True)
class RefreshResult:
    opened: int
    updated: int
    closed: int
    not_covered: tuple[NotCovered, ...]


def as_event(condition: Condition) -> Event:
    waste = condition.waste
    return Event(
        kind=condition.kind,
        subject=condition.subject,
        severity=condition.severity,
        started_at=condition.started_at,
        ended_at=condition.ended_at,
        title=condition.title,
        dedup_key=condition.key,
        # each resource apart at its own tariff (the event's energy is None when there are several)
        details={**condition.details, "waste": [p.as_json() for p in waste.by_resource]}
        if waste and waste.by_resource
        else dict(condition.details),
        energy=waste.energy if waste else None,
        energy_unit=waste.unit if waste else None,
        cost_exact=waste.cost if waste else None,
        currency=waste.currency if waste and waste.cost is not None else None,
        equipment=condition.equipment,
        zone=condition.zone,
        tenants=condition.tenants,
        evidence=condition.evidence,
    )


async def refresh_findings(site: LoadedSite, store: Store, start: datetime, end: datetime) -> RefreshResult:
    """Judge [start, end]; `end` is now: a finding still in fault then stays open."""
    if not site.model.hvac_rules.enabled or not site.model.bms_points:
        return RefreshResult(0, 0, 0, ())
    inputs = await gather(site, store, start, end)
    result = evaluate(inputs, rule_settings(site.model))
    # only findings that started inside the period can be judged again; older ones are left as stored
    open_now = [e for e in await store.open_events(kind_prefix=KIND_PREFIX) if e.started_at >= start]
    plan = reconcile([e.dedup_key for e in open_now], result.conditions, end)
    for condition in plan.open:
        await store.add_event(as_event(condition))
    for condition in plan.update:
        await store.update_finding(as_event(condition))
    for key, when in plan.close:
        await store.end_event(key, when)
    log.info("HVAC findings: %d new, %d updated, %d closed", len(plan.open), len(plan.update), len(plan.close))
    return RefreshResult(len(plan.open), len(plan.update), len(plan.close), result.not_covered)
