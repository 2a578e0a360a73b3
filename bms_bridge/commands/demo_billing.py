"""The demo's billing: a tenant change in the month it closes, and that month closed on first start.

The demo's history is simulated up to now, so the month it closes moves with the calendar; the tenant
change of office A2-03 (Weiss moves out at noon on the 14th, Solaris moves in at that instant) is
written into `lease-change.yaml` for that month when the demo database is created, and left alone after.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from billing_export.closing import CloseSummary, close
from billing_export.period import Period
from billing_export.source import StoreIntervalSource
from billing_export.store import StatementStore, StorePeriodLedger
from bms_bridge.billing.day_ahead import dynamic_prices
from metering.store import ConsumptionStore, Store
from point_mapping.loader import LoadedSite

LEASE_CHANGE = "lease-change.yaml"
_A_COMMON = """      - {point: cw.A-common, share: 4.17}
      - {point: hw.A-common, share: 4.17}
      - {point: heat.A-main, share: 4.17}
    tariffs: {electricity: el-tou, cold_water: cold-water, hot_water: hot-water, heat: heat}
"""


def last_month(now: datetime, site: LoadedSite) -> Period:
    zone = site.model.site.zone
    return Period.parse(f"{now.astimezone(zone):%Y-%m}", zone).previous()


def write_lease_change(folder: Path, period: Period) -> Path:
    day = period.first_day.replace(day=14)
    path = folder / LEASE_CHANGE
    path.write_text(
        f"""# Written by `bms-bridge demo` when it created its database (not tracked by git): office A2-03
# changes tenant on {day} at 12:00, inside {period}, the month the demo closes, so its statements
# show a move-out and a move-in prorated by date and time. Delete the demo database and this file
# together (make clean) to move the change to another month.
contracts:
  - id: c-old-consult
    tenant: old-consult
    start: 2023-01-01
    end: {day}
    move_out: "12:00"
    spaces: [A2-03]
    # common areas: 470 of 11260 m² leased in building A
    points:
      - {{point: el.A2-03}}
{_A_COMMON}  - id: c-solaris-consult
    tenant: solaris-consult
    start: {day}
    move_in: "12:00"
    spaces: [A2-03]
    points:
      - {{point: el.A2-03}}
{_A_COMMON}""",
        encoding="utf-8",
    )
    return path


async def close_last_month(site: LoadedSite, db_url: str, now: datetime) -> CloseSummary | None:
    """Close last month unless it already has statements (the demo was started before)."""
    period = last_month(now, site)
    model = site.model
    async with Store.open(db_url) as store:
        statements = StatementStore(store)
        if await statements.find(model.site.id, period=str(period)):
            return None
        print(f"closing {period}: draft statements for every tenant...", flush=True)
        ledger = StorePeriodLedger(ConsumptionStore(store), model.site.zone)
        dynamic = await dynamic_prices(site, period, now)
        source = StoreIntervalSource(store)
        return await close(model, period, source, ledger, statements, by="demo", now=now, dynamic=dynamic)
