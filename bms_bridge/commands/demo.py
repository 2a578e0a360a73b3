"""`bms-bridge demo`: the case study's business center with simulated meters, ready to explore.

On first start it fills about 13 months of simulated history (so period comparison and heat maps have
data) and closes last month, leaving a draft statement per tenant to review (`demo_billing`); then it
runs the service with simulated Modbus meters on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.engine import make_url

from bms_bridge.commands.check import report_invalid
from bms_bridge.commands.close import describe
from bms_bridge.commands.demo_billing import close_last_month, last_month, write_lease_change
from bms_bridge.commands.progress_bar import progress_bar
from bms_bridge.commands.run import serve_or_explain, service_options
from bms_bridge.simulate.history import lpwan_history, manual_history, simulated_history
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import database_url, open_site
from metering.consumption import refresh_intervals
from metering.intervals import slot_start
from metering.progress import Progress, Steps
from metering.store import ConsumptionStore, Store
from point_mapping.errors import SiteInvalid
from point_mapping.identifiers import write_lock
from point_mapping.loader import LoadedSite

DEMO_SITE = Path(__file__).resolve().parents[2] / "sites" / "demo"
# about 13 months, so a month can be compared with the same month a year before
HISTORY_DAYS = int(os.environ.get("BMS_BRIDGE_DEMO_HISTORY_DAYS", "395"))
BATCH = 20_000
ANOMALY_SLICE = timedelta(weeks=8)  # the history is judged in slices, as a service running all along would
# The demo's webhook secret; a real site names its own variable in YAML and sets it in the environment.
DEMO_SECRETS = {"DEMO_LPWAN_SECRET": "demo-webhook-secret"}


class _Stamped(Protocol):
    @property
    def ts(self) -> datetime: ...


S = TypeVar("S", bound=_Stamped)


def by_day(items: Iterable[S], start: datetime, now: datetime, progress: Progress | None, label: str) -> Iterator[S]:
    """`items` in time order, one progress step per day of history they have reached."""
    days = max(1, math.ceil((now - start) / timedelta(days=1)))
    steps, reached = Steps(progress, days, label), 0
    for item in items:
        day = min(int((item.ts - start) / timedelta(days=1)), days)
        if day > reached:
            steps.step(day - reached)
            reached = day
        yield item
    steps.finish()


async def fill_history(
    site: LoadedSite, db_url: str, now: datetime, model: LoadModel, progress: Progress | None = None
) -> int:
    """Simulated readings for the last 13 months, once: a database with readings is left alone.
    `progress` hears each source's days of history, the intervals, the BMS trends and anomaly slices."""
    async with Store.open(db_url) as store:
        if await store.last_readings():
            return 0
        start = (now - timedelta(days=HISTORY_DAYS)).replace(minute=0, second=0, microsecond=0)
        print(f"first start: filling simulated history from {start:%Y-%m-%d} (about a minute)...", flush=True)
        total, batch = 0, []
        sources = {
            "Modbus meters, days": simulated_history(site, start, now, model=model),
            "LPWAN meters, days": lpwan_history(site, start, now, model),
            "manual readings, days": manual_history(site, start, now, model),
        }
        for label, readings in sources.items():
            for reading in by_day(readings, start, now, progress, label):
                batch.append(reading)
                if len(batch) >= BATCH:
                    total += await store.insert_readings(batch)
                    batch = []
        total += await store.insert_readings(batch)
        repo = ConsumptionStore(store)
        steps = Steps(progress, 1, "15-minute intervals")
        intervals = await refresh_intervals(site, repo, start, slot_start(now))
        await repo.take_dirty()  # every slot of the history was just computed
        steps.step()
        print(f"stored {total:,} readings and {intervals:,} 15-minute intervals", flush=True)
        await fill_bms_history(site, store, start, now, model, progress)
        await fill_anomalies(site, store, start, now, progress)
        return total


async def fill_bms_history(
    site: LoadedSite, store: Store, start: datetime, now: datetime, model: LoadModel, progress: Progress | None = None
) -> None:
    """The simulated BMS's trends and Schedule objects, then the HVAC findings they contain."""
    from bms_bridge.hvac.findings import refresh_findings
    from bms_bridge.simulate.bms_plant import BmsPlant
    from bms_bridge.simulate.history import bms_history
    from metering.hvac.schedule import schedule_to_json

    if not site.model.bms_points:
        return
    plant = BmsPlant(site.model, model)
    holidays = plant.holidays(start.year, now.year + 1)
    for point in site.model.bms_points:
        if point.role == "schedule":
            await store.save_schedule(point.id, now, schedule_to_json(plant.schedule(point.equipment, holidays)))
    stored, batch = 0, []
    for sample in by_day(bms_history(site, start, now, model), start, now, progress, "BMS trends, days"):
        batch.append(sample)
        if len(batch) >= BATCH:
            stored += await store.insert_trends(batch)
            batch = []
    stored += await store.insert_trends(batch)
    found = await refresh_findings(site, store, start, slot_start(now))
    print(f"stored {stored:,} BMS trend values; {found.opened} HVAC findings", flush=True)


async def fill_anomalies(
    site: LoadedSite, store: Store, start: datetime, now: datetime, progress: Progress | None = None
) -> None:
    """The anomaly findings of the whole history, judged slice by slice as the service would have."""
    from bms_bridge.anomalies import IntervalCache, history_needed, refresh_anomalies

    step, cache = ANOMALY_SLICE, IntervalCache()
    first = start + history_needed(site)  # the rules need that much history before what they judge
    opened, moment = 0, min(first + step, now)
    steps = Steps(progress, max(1, math.ceil((now - first) / step)), "anomaly rules, 8-week slices")
    while True:
        found = await refresh_anomalies(site, store, max(first, moment - step), moment, cache=cache)
        opened += found.opened
        steps.step()
        if moment >= now:
            break
        moment = min(moment + step, now)
    steps.finish()
    print(f"{opened} anomaly findings", flush=True)


async def first_start(db_url: str) -> bool:
    async with Store.open(db_url) as store:
        return not await store.last_readings()


def banner(site: LoadedSite, db_url: str) -> str:
    model = site.model
    lines = [f"bms-bridge demo — {model.site.name}: {len(model.meters)} meters, {len(model.points)} points"]
    if model.exposure.bacnet:
        bacnet = model.exposure.bacnet
        lines.append(
            f"  BACnet/IP   device {bacnet.device_instance} on {bacnet.address.split('/')[0]}:"
            f"{bacnet.address.rsplit(':', 1)[1]}"
        )
    if model.exposure.opcua:
        lines.append(f"  OPC UA      {model.exposure.opcua.endpoint}")
    if model.lpwan.webhook:
        hook = model.lpwan.webhook
        lines.append(
            f"  LPWAN       http://{hook.host}:{hook.port}{hook.path} (HMAC secret in ${hook.auth.secret_env})"
        )
    if "web" in model.model_fields_set and model.web.enabled:
        from bms_bridge.web.demo_users import banner_lines

        lines += banner_lines(f"http://{model.web.host}:{model.web.port}")
    lines.append(f"  database    {make_url(db_url).render_as_string(hide_password=True)}")
    some_point = next((p.id for p in model.points if p.is_virtual), model.points[0].id)
    today = datetime.now(UTC).astimezone(model.site.zone).date()
    lines += [
        "Try, in another terminal:",
        f"  .venv/bin/bms-bridge consumption sites/demo --point {some_point} "
        f"--from {today.replace(day=1)} --to {today} --by day",
        "  .venv/bin/bms-bridge poll sites/demo --once --json",
        f"  .venv/bin/bms-bridge statements sites/demo --period {last_month(datetime.now(UTC), site)}",
        "  .venv/bin/bms-bridge show sites/demo STATEMENT_ID",
        f"  .venv/bin/bms-bridge report sites/demo --year {today.year} --html report.html   # savings, CO2e",
        "  .venv/bin/uals -u opc.tcp://127.0.0.1:4840 -l 3",
        "Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    try:
        site = open_site(DEMO_SITE)
    except SiteInvalid as error:
        return report_invalid(error)
    write_lock(site.folder, site.identifiers)
    db_url = database_url(site, args.db)
    now = datetime.now(UTC)
    if asyncio.run(first_start(db_url)):  # the tenant change goes into the month about to be closed
        write_lease_change(site.folder, last_month(now, site))
        try:
            site = open_site(DEMO_SITE)
        except SiteInvalid as error:
            return report_invalid(error)
    model = LoadModel(site.model)
    with progress_bar() as progress:  # stderr, on a terminal only
        asyncio.run(fill_history(site, db_url, now, model, progress))
    closed = asyncio.run(close_last_month(site, db_url, now))
    if closed is not None:  # the summary and the pools' reconciliation; `statements` lists the rest
        print("\n".join(line for line in describe(closed) if not line.startswith(("  new", "  kept"))), flush=True)
    from bms_bridge.web.demo_users import ensure_demo_users

    asyncio.run(ensure_demo_users(db_url))
    options = service_options(site, db_url, simulate=True, simulation_model=model)
    return serve_or_explain(site, db_url, options, banner=banner(site, db_url))
