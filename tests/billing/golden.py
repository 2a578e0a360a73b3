"""Runs a golden billing case: base site + the case's tenants.yaml, intervals into a real SQLite store.

input.json describes intervals as constant runs ("0.25 kWh every quarter hour from ... to ...", local
times; later runs overwrite earlier ones) so a person can redo the arithmetic; expected.json lists each
statement's lines as text (see `render`) with the totals and the reconciliation.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from billing_export.allocation import Reconciliation
from billing_export.close import CloseResult, close_period
from billing_export.corrections import correction_lines
from billing_export.period import Period
from billing_export.prices_file import load_dynamic_prices
from billing_export.source import StoreIntervalSource
from billing_export.statement import Statement, StatementLine
from bms_bridge.sites import open_site
from metering.exchanges import MeterExchange
from metering.readings import Interval, Quality, Reading
from metering.store.store import Store

BASE_SITE = Path(__file__).parent / "base_site"
SLOT = timedelta(minutes=15)


def render(line: StatementLine) -> str:
    text = f"{line.kind.value} {line.point_id or '-'} {line.zone or '-'}: "
    text += f"{line.quantity} {line.unit} x {line.unit_price}"
    text += f" = {line.net} + {line.vat_percent} % VAT {line.vat}"
    if line.opening is not None or line.closing is not None:
        text += f" | {line.meter_serial} {line.opening} -> {line.closing}"
    if line.share_percent != 100:
        text += f" | share {line.share_percent} %"
    if line.estimated_percent:
        text += f" | estimated {line.estimated_percent} %"
    if line.basis:
        text += f" | {line.basis}"
    if line.refers_to:
        text += f" | corrects {line.refers_to}"
    return text


def render_statement(statement: Statement) -> dict[str, Any]:
    return {
        "lines": [render(line) for line in statement.lines],
        "net": str(statement.net),
        "vat": str(statement.vat),
        "gross": str(statement.gross),
    }


def render_reconciliation(r: Reconciliation) -> str:
    flag = " FLAGGED" if r.flagged else ""
    parts = f"billed {r.billed} + common {r.common} + losses {r.losses} ({r.losses_percent} %)"
    return f"{r.pool}: main {r.main} = {parts}{flag}"


def render_result(result: CloseResult) -> dict[str, Any]:
    return {
        "statements": {s.contract: render_statement(s) for s in result.statements},
        "reconciliation": [render_reconciliation(r) for r in result.reconciliations],
    }


def build_site(case: Path, into: Path) -> Path:
    site_dir = into / "site"
    shutil.copytree(BASE_SITE, site_dir)
    shutil.copy(case / "tenants.yaml", site_dir / "tenants.yaml")
    for extra in case.glob("*.csv"):
        shutil.copy(extra, site_dir / extra.name)
    return site_dir


def _local(text: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def runs_to_intervals(runs: list[dict[str, Any]], zone: ZoneInfo) -> list[Interval]:
    slots: dict[tuple[str, datetime], Interval] = {}
    for run in runs:
        at, end = _local(run["from"], zone).astimezone(ZoneInfo("UTC")), _local(run["to"], zone)
        while at < end:
            quality = Quality(run.get("quality", "measured"))
            slots[(run["point"], at)] = Interval(run["point"], at, float(run["per_slot"]), quality)
            at += SLOT
    return list(slots.values())


async def load_into(store: Store, data: dict[str, Any], zone: ZoneInfo) -> None:
    await store.upsert_intervals(runs_to_intervals(data.get("intervals", []), zone))
    await store.insert_readings(
        Reading(r["point"], _local(r["at"], zone), float(r["value"])) for r in data.get("readings", [])
    )
    for r in data.get("replacements", []):
        replacement = MeterExchange(r["meter"], _local(r["at"], zone), r["old_final"], r["new_initial"])
        await store.add_exchange(replacement)


async def close_case(case: Path, tmp: Path) -> dict[str, Any]:
    data = json.loads((case / "input.json").read_text())
    site_dir = build_site(case, tmp)
    site = open_site(site_dir).model
    dynamic = load_dynamic_prices(site, site_dir)
    zone = site.site.zone
    async with Store.open(f"sqlite+aiosqlite:///{tmp / 'golden.db'}") as store:
        await load_into(store, data, zone)
        period = Period.parse(data["period"], zone)
        result = await close_period(site, period, StoreIntervalSource(store), dynamic)
        rendered = render_result(result)
        if "late" in data:  # data arriving after the close: correction lines for the next period
            await load_into(store, data["late"], zone)
            again = await close_period(site, period, StoreIntervalSource(store), dynamic)
            issued = {s.contract: s for s in result.statements}
            rendered["corrections"] = {
                s.contract: [render(line) for line in correction_lines(issued[s.contract], s)] for s in again.statements
            }
    return rendered
