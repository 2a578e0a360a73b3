"""`bms-bridge import-readings SITE FILE.csv`: all rows or none; every bad row listed as FILE:LINE: reason."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bms_bridge.commands.check import report_invalid
from bms_bridge.commands.progress_bar import progress_bar
from bms_bridge.manual_import import ImportResult, import_readings
from bms_bridge.sites import database_url, open_site
from metering.progress import Progress
from metering.store import Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _import(site: LoadedSite, db_url: str, path: Path, progress: Progress) -> ImportResult:
    async with Store.open(db_url) as store:
        return await import_readings(site, store, path, progress=progress)


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 1
    with progress_bar() as progress:  # stderr, on a terminal only
        result = asyncio.run(_import(site, database_url(site, args.db), path, progress))
    for message in result.messages:
        print(message)
    if not result.ok:
        for line in result.error_lines():
            print(line, file=sys.stderr)
        print(f"{path}: {len(result.errors)} bad rows; nothing was imported", file=sys.stderr)
        return 1
    print(f"{path}: imported {result.inserted} readings ({result.already_present} already present)")
    return 0
