"""`bms-bridge export SITE --period YYYY-MM --format json|csv|xlsx|espi --out PATH`.

csv and xlsx write one file at PATH with every statement line of the period; json writes one
document per statement (the body the billing system receives) and espi one Green Button feed per
statement and metering point, both into the folder PATH (created if missing). Every file is built in
memory first and each is written through a temporary file, so a refused export writes nothing and
an interrupted one leaves no half-written file.

It exports the statements `close` stored for the period: the newest version of each contract's
statement, whatever its state, with its version number. A period that is not closed is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from billing_export.exports.columns import Versions
from billing_export.exports.csv_lines import lines_csv
from billing_export.exports.espi_codes import EspiError
from billing_export.exports.espi_feed import espi_feed
from billing_export.exports.espi_validation import espi_problems
from billing_export.exports.interval_prices import interval_prices
from billing_export.exports.statement_json import statement_bytes
from billing_export.exports.xlsx_workbook import lines_xlsx
from billing_export.period import Period, occupancy
from billing_export.pricing import DynamicPrices, PricingError
from billing_export.statement import LineKind, Statement
from billing_export.store import StatementStore, StorePeriodLedger
from bms_bridge.billing.day_ahead import dynamic_prices
from bms_bridge.billing.hooks import latest_versions
from bms_bridge.commands.check import report_invalid
from bms_bridge.commands.progress_bar import progress_bar
from bms_bridge.sites import database_url, open_site
from metering.progress import Progress, Steps
from metering.store import ConsumptionStore, Store
from metering.store.urls import is_sqlite, normalise_db_url
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite

FOLDER_FORMATS = frozenset({"json", "espi"})  # one file per statement (json) or statement and point (espi)
EXIT_REFUSED = 1  # refused input, as every command (2 is argparse's usage error)


class ExportRefused(ValueError):
    """An export the command refuses; the message is one sentence, printed as is."""


async def statements_for(site: LoadedSite, store: Store, period: Period) -> tuple[tuple[Statement, ...], Versions]:
    """The period's stored statements (the newest version of each) and their version numbers."""
    model = site.model
    if not await StorePeriodLedger(ConsumptionStore(store), model.site.zone).is_frozen(str(period)):
        raise ExportRefused(
            f"period {period} is not closed; close it first with: bms-bridge close {site.folder} --period {period}"
        )
    newest = latest_versions(await StatementStore(store).find(model.site.id, period=str(period)))
    return tuple(s.statement for s in newest), {s.statement.id: s.version for s in newest}


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    try:
        period = _period(args.period, site)
        out = _target(Path(args.out), args.format)
        url = _existing_database(database_url(site, args.db))
        with progress_bar() as progress:  # stderr, on a terminal only
            files = asyncio.run(_export(site, url, period, args.format, out, progress))
        _write(files)
    except (ExportRefused, PricingError, EspiError) as error:
        print(f"error: {error}; nothing was written", file=sys.stderr)
        return EXIT_REFUSED
    for path in files:
        print(path)
    print(f"exported {period} of site {site.model.site.id} as {args.format}: {len(files)} file(s)", file=sys.stderr)
    return 0


def _period(text: str, site: LoadedSite) -> Period:
    try:
        return Period.parse(text, site.model.site.zone)
    except ValueError:
        raise ExportRefused(f"--period {text!r} is not a month; use YYYY-MM, e.g. 2026-01") from None


def _target(out: Path, kind: str) -> Path:
    if kind in FOLDER_FORMATS:
        if out.exists() and not out.is_dir():
            raise ExportRefused(f"--out {out} is a file, but {kind} export writes one file per statement into a folder")
        return out
    if out.is_dir():
        raise ExportRefused(
            f"--out {out} is a folder; give the {kind} file to write, e.g. {out / ('statements.' + kind)}"
        )
    if not out.parent.is_dir():
        raise ExportRefused(f"the folder of --out {out} does not exist")
    return out


def _existing_database(url: str) -> str:
    """Exporting reads what was recorded: a missing SQLite file is refused, not created empty."""
    try:
        parsed = normalise_db_url(url)
    except ValueError as error:
        raise ExportRefused(str(error)) from None
    if is_sqlite(parsed) and parsed.database and not Path(parsed.database).exists():
        raise ExportRefused(f"there is no database at {parsed.database}, so nothing has been recorded to bill")
    return url


async def _dynamic(site: LoadedSite, period: Period) -> Mapping[str, DynamicPrices]:
    """The prices the close used: CSVs, and the day-ahead prices kept when the month was closed."""
    try:
        return await dynamic_prices(site, period, datetime.now(UTC))
    except ValueError as error:
        raise ExportRefused(str(error)) from None


def _file_name(*parts: str) -> str:
    return "_".join(part.replace(":", "-") for part in parts)


async def _export(
    site: LoadedSite, url: str, period: Period, kind: str, out: Path, progress: Progress | None = None
) -> dict[Path, bytes]:
    async with Store.open(url) as store:
        return await build_files(site, store, period, kind, out, progress)


async def build_files(
    site: LoadedSite, store: Store, period: Period, kind: str, out: Path, progress: Progress | None = None
) -> dict[Path, bytes]:
    """The export's files in memory (nothing written). `progress` hears one step per statement (json,
    and csv/xlsx as they are laid out) or per statement and metering point (espi)."""
    statements, versions = await statements_for(site, store, period)
    if not statements:
        raise ExportRefused(f"period {period} of site {site.model.site.id} is closed without statements")
    label = f"exporting {period} as {kind}"
    if kind == "espi":
        return await _espi_files(site, store, period, statements, out, progress, label)
    steps = Steps(progress, len(statements), label)
    if kind == "json":
        files = {}
        for s in statements:
            files[out / f"{_file_name(s.period, s.contract)}.json"] = statement_bytes(s, versions[s.id])
            steps.step()
        return files
    data = lines_csv(statements, versions=versions) if kind == "csv" else lines_xlsx(statements, versions)
    steps.finish()  # one document of every statement's lines
    return {out: data}


async def _espi_files(
    site: LoadedSite,
    store: Store,
    period: Period,
    statements: tuple[Statement, ...],
    out: Path,
    progress: Progress | None,
    label: str,
) -> dict[Path, bytes]:
    model, dynamic = site.model, await _dynamic(site, period)
    updated = datetime.now(UTC).replace(microsecond=0)
    feeds = []
    for statement in statements:
        contract = next(c for c in model.contracts if c.id == statement.contract)
        span = occupancy(contract, period)
        if span is None:  # a statement of correction lines only, for a contract no longer in force
            continue
        points = sorted({line.point_id for line in statement.lines if line.kind is LineKind.ENERGY and line.point_id})
        feeds += [(statement, contract, span, point_id) for point_id in points]
    steps = Steps(progress, len(feeds), label)
    files = {}
    for statement, contract, span, point_id in feeds:
        intervals = await store.intervals(point_id, *span)
        prices = interval_prices(model, period, contract, point_id, intervals, dynamic)
        data = espi_feed(statement, point_id, intervals, zone=period.zone, updated=updated, prices=prices)
        problems = espi_problems(data)
        if problems:  # a bug of ours, not of the input: say where, write nothing
            raise EspiError(f"the feed of {point_id} for {statement.id} is not valid ESPI: {problems[0]}")
        files[out / f"{_file_name(statement.period, statement.contract, point_id)}.xml"] = data
        steps.step()
    return files


def _write(files: Mapping[Path, bytes]) -> None:
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
