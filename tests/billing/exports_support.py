"""Statements of a golden case (tests/fixtures/billing_*) as objects, for the exporter tests.

Same route as `golden.close_case` (base site + the case's tenants.yaml, intervals in a real SQLite
store, `close_period`), but it hands back the `CloseResult` and keeps the store open for the caller.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from billing_export.close import CloseResult, close_period
from billing_export.period import Period
from billing_export.prices_file import load_dynamic_prices
from billing_export.source import StoreIntervalSource
from bms_bridge.sites import open_site
from metering.store.store import Store
from point_mapping.loader import LoadedSite
from tests.billing.golden import build_site, load_into

FIXTURES = Path(__file__).parent.parent / "fixtures"


@dataclass
class ClosedCase:
    site: LoadedSite
    period: Period
    store: Store
    result: CloseResult
    db_url: str


@asynccontextmanager
async def closed_case(name: str, tmp: Path) -> AsyncIterator[ClosedCase]:
    case = FIXTURES / name
    data = json.loads((case / "input.json").read_text())
    site_dir = build_site(case, tmp)
    site = open_site(site_dir)
    zone = site.model.site.zone
    url = f"sqlite+aiosqlite:///{tmp / 'exports.db'}"
    async with Store.open(url) as store:
        await load_into(store, data, zone)
        period = Period.parse(data["period"], zone)
        dynamic = load_dynamic_prices(site.model, site_dir)
        result = await close_period(site.model, period, StoreIntervalSource(store), dynamic)
        yield ClosedCase(site, period, store, result, url)
