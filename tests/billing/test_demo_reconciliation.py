"""The reconciliation holds on the demo for every building, resource and month (issue 8, item 10).

Two months of simulated demo history (October 2026 with the autumn clock change, November with the
tenant change of A2-03; a longer history costs a minute a month). For each month, building and resource, the
main meters' intervals (read straight from the store, not through billing) equal what the month's
statements bill plus what nobody is billed for (losses), and the losses stay within 2 % of the main
meter. The electricity pools' own reconciliation is checked against the same independent sums.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import bms_bridge.commands.demo as demo
from billing_export.close import close_period
from billing_export.money import quantity
from billing_export.period import Period
from billing_export.source import StoreIntervalSource
from billing_export.statement import LineKind
from bms_bridge.billing.day_ahead import dynamic_prices
from bms_bridge.commands.demo_billing import write_lease_change
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site
from metering.store import Store
from point_mapping.model import SiteModel
from tests.service.demo_copy import demo_copy

NOW = datetime(2026, 12, 3, 6, tzinfo=UTC)
# BMS_BRIDGE_RECONCILE_MONTHS=13 checks the demo's whole history (about 13 minutes; two by default in CI)
_COUNT = int(os.environ.get("BMS_BRIDGE_RECONCILE_MONTHS", "2"))
MONTHS = tuple(f"{2026 - (m > 10)}-{(10 - m) % 12 + 1:02d}" for m in range(_COUNT - 1, -1, -1))
_FIRST = datetime.strptime(MONTHS[0], "%Y-%m").replace(tzinfo=UTC)
HISTORY_DAYS = (NOW - _FIRST).days + 1  # from the last day of the month before: every month complete
TOLERANCE_PERCENT = Decimal(2)
_REFERENCE = re.compile(r"\{([^}]+)\}")


async def _noop(*_args: object) -> None:
    return None


def building_of(site: SiteModel, point_id: str) -> str | None:
    """A point's building: its space's or its meter's; a formula point's is that of its first input."""
    point = site.point_by_id[point_id]
    space = point.space or (site.meter_by_id[point.meter].space if point.meter else None)
    if space is not None:
        return site.building_of_space[space].id
    if point.formula:
        return building_of(site, _REFERENCE.findall(point.formula)[0])
    return None


def main_points(site: SiteModel) -> dict[tuple[str, str], list[str]]:
    """(building, resource) -> the consumption points of its main meters (meters that are nobody's
    sub-meter), for the resources its tenants are billed for."""
    billed = {resource.value for contract in site.contracts for resource in contract.tariffs}
    result: dict[tuple[str, str], list[str]] = defaultdict(list)
    for point in site.points:
        if point.meter is None or point.unit in {"kW", "W"} or site.resource_of(point).value not in billed:
            continue
        meter = site.meter_by_id[point.meter]
        building = building_of(site, point.id)
        if meter.submeter_of is None and building is not None:
            result[(building, site.resource_of(point).value)].append(point.id)
    return result


async def test_billed_plus_common_plus_losses_is_the_main_meter_every_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "HISTORY_DAYS", HISTORY_DAYS)  # 64 by default: October and November complete
    monkeypatch.setattr(demo, "fill_bms_history", _noop)  # HVAC trends play no part in billing
    folder = demo_copy(tmp_path / "site")
    site = open_site(folder)
    write_lease_change(folder, Period.parse("2026-11", site.model.site.zone))
    site = open_site(folder)
    model = site.model
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    await demo.fill_history(site, url, NOW, LoadModel(model))
    mains = main_points(model)
    assert {resource for _, resource in mains} >= {"electricity", "cold_water", "hot_water", "heat"}

    async with Store.open(url) as store:
        source = StoreIntervalSource(store)
        for month in MONTHS:
            period = Period.parse(month, model.site.zone)
            result = await close_period(model, period, source, await dynamic_prices(site, period, NOW))

            async def metered(point_id: str) -> Decimal:
                found = await store.intervals(point_id, period.start, period.end)  # noqa: B023
                return sum((Decimal(repr(i.value)) for i in found), Decimal(0))

            billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            lines: dict[tuple[str, str], int] = defaultdict(int)
            pools = {pool.id: pool for pool in model.common_pools}
            for statement in result.statements:
                for line in statement.lines:
                    if line.kind not in (LineKind.ENERGY, LineKind.ALLOCATION):
                        continue
                    assert line.point_id is not None
                    pool = pools.get(line.point_id)
                    building = pool.building if pool is not None else building_of(model, line.point_id)
                    assert building is not None, line
                    billed[(building, line.resource)] += line.quantity
                    lines[(building, line.resource)] += 1

            for key, points in sorted(mains.items()):
                main = sum([await metered(p) for p in points], Decimal(0))
                if not main:
                    continue  # a resource nobody consumed that month (none in the demo)
                losses = main - billed[key]
                # billed lines are each rounded to 1 Wh / 1 L: the sum of the lines is the main meter up
                # to that rounding and the losses (unmetered use, vacancy, shares that do not add to 100 %)
                assert abs(losses) * 100 <= TOLERANCE_PERCENT * main, (month, key, main, billed[key], losses)

            for r in result.reconciliations:
                pool = pools[r.pool]
                assert r.main == quantity(await metered(pool.main)), (month, r)
                submeters = sum([await metered(p) for p in pool.submeters], Decimal(0))
                assert abs(r.billed - submeters) <= Decimal("0.001"), (month, r, submeters)
                allocated = [
                    line.quantity
                    for s in result.statements
                    for line in s.lines
                    if line.kind == LineKind.ALLOCATION and line.point_id == pool.id
                ]
                assert abs(sum(allocated, Decimal(0)) - r.common) <= Decimal("0.0005") * len(allocated), (month, r)
                assert r.billed + r.common + r.losses == r.main and r.main > 0 and r.billed > 0 and r.common > 0
                assert not r.flagged and abs(r.losses) * 100 <= r.tolerance_percent * r.main, (month, r)
