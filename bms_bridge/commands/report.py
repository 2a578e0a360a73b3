"""`bms-bridge report SITE --year YYYY [--json] [--html OUT] [--pdf PATH]`: the owner's and investors' yearly report.

Consumption and intensity per m² per resource and building, the monthly trend against the year before,
the measures taken with their measured savings (ASHRAE Guideline 14 figures), CO2e from the site's
emission factors and the share of data that was estimated. `--html` writes a self-contained file with
charts, `--pdf` the same as a PDF (matplotlib), to send as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bms_bridge.commands.check import report_invalid
from bms_bridge.savings.html import render_html
from bms_bridge.savings.inputs import SavingsInputError
from bms_bridge.savings.report import YearReport, year_report
from bms_bridge.sites import database_url, open_site
from metering.store import Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


async def _report(site: LoadedSite, db_url: str, year: int) -> YearReport:
    async with Store.open(db_url) as store:
        return await year_report(site, store, year, datetime.now(UTC))


def text_lines(report: YearReport) -> list[str]:
    lines = [f"{report.site_name}: report {report.year} (data until {report.data_until or 'no data'})"]
    for figure in (*report.figures, *report.site_figures):
        where = f"building {figure.building}" if figure.building else "site"
        change = f"{figure.change_pct:+.1f} % on last year" if figure.change_pct is not None else "no last year"
        co2 = f"{figure.co2e_kg / 1000:,.1f} t CO2e" if figure.co2e_kg is not None else "no emission factor"
        lines.append(
            f"  {where:<12} {figure.resource.value:<12} {figure.total:>14,.1f} {figure.unit:<4} "
            f"{figure.intensity:>8.2f} {figure.unit}/m²  {change:<22} {co2:<20} "
            f"estimated {figure.estimated_share_pct:.1f} %"
        )
    for result in report.measures:
        s = result.savings
        if s.reportable:
            lines.append(
                f"  measure {result.measure.id} ({result.resource.value}): saved {s.savings:,.0f}"
                f" ± {s.uncertainty:,.0f} {result.unit} ({s.savings_pct:.1f} %) over {s.days} days"
            )
        else:
            lines.append(f"  measure {result.measure.id} ({result.resource.value}): no figure: {'; '.join(s.reasons)}")
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    if not 2000 <= args.year <= 2100:
        print(f"error: --year {args.year} is not a year between 2000 and 2100", file=sys.stderr)
        return 1
    try:
        report = asyncio.run(_report(site, database_url(site, args.db), args.year))
    except SavingsInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
    if args.pdf:
        from bms_bridge.savings.pdf import write_pdf  # matplotlib only when a PDF is asked for

        try:
            write_pdf(report, Path(args.pdf))
        except OSError as error:
            print(f"error: cannot write {args.pdf}: {error.strerror or error}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(text_lines(report)))
        for written in (args.html, args.pdf):
            if written:
                print(f"written {written}")
    return 0
