"""The yearly report as a PDF (matplotlib's PdfPages): the same figures and charts as the HTML file.

One A4 page for the site (key figures, the table per resource, CO2e), a page of monthly charts
(this year against the year before) for the site and for each building, a page per energy-saving
measure (its baseline fit, the saving and a chart of daily use against the baseline), and the method.
matplotlib draws off-screen (the Agg and PDF backends: no display needed); fonts are embedded as
TrueType so the text can be searched and copied.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from bms_bridge.savings.measures import MeasureResult
from bms_bridge.savings.report import YearReport
from bms_bridge.savings.wording import METHOD, MONTHS, emission_factor_lines, measure_text, number
from metering.savings.report import ResourceFigures, co2e_total
from point_mapping.model import EmissionFactor

A4 = (8.27, 11.69)  # inches
CHARTS_PER_PAGE = 4
LINE_CHARS = 100  # characters of 9 pt text across an A4 page within its margins
THIS_YEAR, LAST_YEAR = "#2b6cb0", "#a0aec0"
EPOCH = date(1970, 1, 1)  # matplotlib's default date epoch (rcParams["date.epoch"])


def _page() -> Figure:
    return Figure(figsize=A4)


def _table_rows(rows: Sequence[ResourceFigures]) -> list[list[str]]:
    return [
        [
            f.resource.value.replace("_", " "),
            f"{number(f.total)} {f.unit}",
            f"{number(f.intensity, 2)} {f.unit}/m²",
            number(f.change_pct, 1, " %"),
            "no factor" if f.co2e_kg is None else f"{f.co2e_kg / 1000:,.2f} t",
            number(f.estimated_share_pct, 2, " %"),
        ]
        for f in rows
    ]


def _table(fig: Figure, rect: tuple[float, float, float, float], rows: Sequence[ResourceFigures]) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    if not rows:
        ax.text(0, 1, "No consumption stored for this year.", va="top", fontsize=9)
        return
    head = ["resource", "consumption", "per m²", "on year before", "CO2e", "estimated"]
    table = ax.table(cellText=_table_rows(rows), colLabels=head, loc="upper left", cellLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.3)


def _site_page(report: YearReport) -> Figure:
    fig = _page()
    co2e, missing = co2e_total(report.site_figures)
    until = f"data until {report.data_until}" if report.data_until else "no data stored"
    area = sum(a for _, _, a in report.buildings)
    fig.text(0.08, 0.94, report.site_name, fontsize=18, weight="bold")
    fig.text(0.08, 0.915, f"Energy and water report {report.year} · {until}", fontsize=10)
    fig.text(0.08, 0.895, f"generated {report.generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC", fontsize=8)
    lines = [
        f"{area:,.0f} m² in {len(report.buildings)} buildings",
        f"CO2e (location-based): {co2e / 1000:,.2f} t"
        + (f" (no factor set for {', '.join(missing)})" if missing else ""),
        f"{len(report.measures)} energy-saving measure(s) recorded",
    ]
    for i, line in enumerate(lines):
        fig.text(0.08, 0.86 - 0.022 * i, line, fontsize=10)
    fig.text(0.08, 0.77, "Site", fontsize=13, weight="bold")
    _table(fig, (0.08, 0.55, 0.84, 0.2), report.site_figures)
    y = 0.5
    for building_id, name, b_area in report.buildings:
        rows = [f for f in report.figures if f.building == building_id]
        fig.text(0.08, y, f"{name} ({b_area:,.0f} m²)", fontsize=11, weight="bold")
        _table(fig, (0.08, y - 0.2, 0.84, 0.18), rows)
        y -= 0.25
        if y < 0.1:
            break
    return fig


def _chart_pages(rows: Sequence[ResourceFigures], where: str) -> list[Figure]:
    pages: list[Figure] = []
    for first in range(0, len(rows), CHARTS_PER_PAGE):
        fig = _page()
        chunk = rows[first : first + CHARTS_PER_PAGE]
        for i, f in enumerate(chunk):
            ax = fig.add_subplot(CHARTS_PER_PAGE, 1, i + 1)
            labels = [MONTHS[m.month - 1] for m in f.months]
            x = list(range(len(labels)))
            ax.bar([p - 0.2 for p in x], [m.value for m in f.months], 0.4, color=THIS_YEAR, label="this year")
            previous = [m.previous if m.previous is not None else 0.0 for m in f.months]
            if any(m.previous is not None for m in f.months):
                ax.bar([p + 0.2 for p in x], previous, 0.4, color=LAST_YEAR, label="year before")
            ax.set_xticks(x, labels, fontsize=8)
            ax.set_ylabel(f.unit, fontsize=8)
            ax.tick_params(axis="y", labelsize=8)
            ax.set_title(f"{where}: {f.resource.value.replace('_', ' ')} per month", fontsize=10, loc="left")
            ax.legend(fontsize=7, loc="upper right")
        fig.subplots_adjust(hspace=0.55, top=0.95, bottom=0.05)
        pages.append(fig)
    return pages


def _measure_page(result: MeasureResult, factors: Sequence[EmissionFactor]) -> Figure:
    fig = _page()
    m = result.measure
    text = measure_text(result, factors)
    fig.text(0.08, 0.94, text.title, fontsize=13, weight="bold")
    _paragraphs(fig, 0.9, [text.description, *text.notes, *(line.text for line in text.lines)], step=0.022)
    if result.daily:
        ax = fig.add_axes((0.1, 0.35, 0.82, 0.35))
        days = [float((d - EPOCH).days) for d, _, _ in result.daily]  # matplotlib's date numbers
        ax.xaxis_date()
        ax.plot(days, [a for _, a, _ in result.daily], color=THIS_YEAR, linewidth=1, label="measured")
        ax.plot(days, [e for _, _, e in result.daily], color="#dd6b20", linewidth=1, label="baseline")
        ax.set_ylabel(f"{result.unit} per day", fontsize=8)
        ax.set_title(f"{m.id}: daily use", fontsize=10, loc="left")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
        fig.autofmt_xdate()
    return fig


def _method_page(report: YearReport) -> Figure:
    fig = _page()
    fig.text(0.08, 0.94, "Method", fontsize=13, weight="bold")
    _paragraphs(fig, 0.9, [*METHOD, *emission_factor_lines(report)], step=0.02)
    return fig


def _paragraphs(fig: Figure, top: float, paragraphs: Sequence[str], *, step: float) -> None:
    """Each paragraph wrapped to the page's width at 9 pt, one text line under the other."""
    row = 0
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, LINE_CHARS) or [""]:
            fig.text(0.08, top - step * row, line, fontsize=9)
            row += 1


def write_pdf(report: YearReport, path: Path) -> int:
    """Write the report to `path`; returns the number of pages."""
    pages = [_site_page(report), *_chart_pages(report.site_figures, "Site")]
    for building_id, name, _ in report.buildings:
        pages += _chart_pages([f for f in report.figures if f.building == building_id], name)
    pages += [_measure_page(r, report.factors) for r in report.measures]
    pages.append(_method_page(report))
    metadata = {
        "Title": f"{report.site_name}: report {report.year}",
        "Subject": "Energy and water consumption, savings and CO2e",
        "Creator": "bms-bridge",
        "CreationDate": report.generated_at.astimezone(UTC) if report.generated_at.tzinfo else datetime.now(UTC),
    }
    with rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata=metadata) as pdf:  # TrueType: searchable
        for page in pages:
            pdf.savefig(page)
    return len(pages)
