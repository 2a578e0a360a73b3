"""Day-ahead prices from a tariff's `prices_url`, fetched before a close and kept under SITE/.state.

`GET <prices_url>?from=<period start>&to=<period end>` (ISO 8601, UTC) must answer 200 with the JSON
document of `billing_export.day_ahead` (or its CSV when Content-Type is text/csv). The entries that
price the month are written to `SITE/.state/day-ahead/<tariff>/<YYYY-MM>.json` once the month is over;
from then on that file is the month's prices: closing again, recomputing the month for late data or
exporting its ESPI costs gives the same numbers even if the source has changed or is gone. A month
not over yet (month-to-date costs) is fetched each time and never cached.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from billing_export.day_ahead import in_force_during, merge_into, parse_price_document, parse_price_json, price_json
from billing_export.period import Period
from billing_export.prices_file import load_dynamic_prices
from billing_export.pricing import DynamicPrices
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

CACHE = "day-ahead"
TIMEOUT = timedelta(seconds=30)


class DayAheadError(ValueError):
    """The prices could not be fetched or read; the message is one sentence saying what to do."""


def cache_file(site: LoadedSite, tariff: str, period: Period) -> Path:
    return site.state_dir / CACHE / tariff / f"{period}.json"


async def dynamic_prices(site: LoadedSite, period: Period, now: datetime) -> dict[str, DynamicPrices]:
    """Every dynamic price table of the site: the CSVs, and per `prices_url` tariff its cached months
    plus `period` (fetched unless cached)."""
    tables = load_dynamic_prices(site.model, site.folder)
    for tariff in site.model.tariffs:
        urls = sorted({terms.prices_url for _, _, terms in tariff.terms() if terms.prices_url is not None})
        if not urls:
            continue
        table = tables.setdefault(tariff.id, DynamicPrices())
        cached = cache_file(site, tariff.id, period)
        if not cached.exists():
            fetched = DynamicPrices()
            for url in urls:
                merge_into(fetched, await fetch(url, period), url)
            month = in_force_during(fetched, period.start, period.end)
            if now >= period.end:
                _write(cached, price_json(month, tariff=tariff.id, period=str(period), source=urls))
                log.info("tariff %s: day-ahead prices of %s kept in %s", tariff.id, period, cached)
            merge_into(table, month, urls[0])
        for path in sorted(cached.parent.glob("*.json")):
            try:
                merge_into(table, parse_price_json(path.read_text(encoding="utf-8"), str(path)), str(path))
            except ValueError as error:
                raise DayAheadError(f"tariff {tariff.id}: {error}; delete the file to fetch the month again") from None
    return tables


async def fetch(url: str, period: Period) -> DynamicPrices:
    params = {"from": _utc(period.start), "to": _utc(period.end)}
    what = f"the day-ahead prices of {period} from {url}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT.total_seconds())) as session,
            session.get(url, params=params) as response,
        ):
            body = await response.read()
            if response.status != 200:
                raise DayAheadError(f"{what}: the source answered HTTP {response.status}; retry when it answers 200")
            content_type = response.headers.get("Content-Type", "application/json")
    except (TimeoutError, aiohttp.ClientError) as error:
        reason = str(error) or type(error).__name__
        raise DayAheadError(f"cannot fetch {what} ({reason}); retry when the source answers") from None
    try:
        return parse_price_document(body, content_type, url)
    except ValueError as error:
        raise DayAheadError(f"{what} are not a price table: {error}") from None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
