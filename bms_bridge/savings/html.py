"""The yearly report as one self-contained HTML file (inline CSS and SVG): what an owner sends a bank."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bms_bridge.savings.measures import MeasureResult
from bms_bridge.savings.report import YearReport
from bms_bridge.savings.svg import month_bars, two_lines
from bms_bridge.savings.wording import METHOD, MONTHS, emission_factor_lines, measure_text, number
from metering.savings.report import ResourceFigures, co2e_total
from point_mapping.model import EmissionFactor

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:60em;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;width:100%}th,td{padding:.3em .5em;border-bottom:1px solid #e5e5e5}
th{text-align:left;background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9em}.warn{color:#8a4b00}figure{margin:1em 0}
@media print{h2{page-break-before:auto}figure{page-break-inside:avoid}}
"""


def _figures_table(rows: list[ResourceFigures]) -> str:
    head = (
        "<tr><th>resource</th><th>consumption</th><th>per m²</th><th>change on year before (same days)</th>"
        "<th>CO2e</th><th>estimated data</th></tr>"
    )
    body = []
    for f in rows:
        co2 = "no factor set" if f.co2e_kg is None else f"{f.co2e_kg / 1000:,.2f} t"
        body.append(
            f"<tr><td>{escape(f.resource.value.replace('_', ' '))}</td>"
            f'<td class="n">{number(f.total)} {escape(f.unit)}</td>'
            f'<td class="n">{number(f.intensity, 2)} {escape(f.unit)}/m²</td>'
            f'<td class="n">{number(f.change_pct, 1, " %")}</td><td class="n">{co2}</td>'
            f'<td class="n">{number(f.estimated_share_pct, 2, " %")}</td></tr>'
        )
    return f"<table>{head}{''.join(body)}</table>"


def _charts(rows: list[ResourceFigures], where: str) -> str:
    charts = []
    for f in rows:
        labels = [MONTHS[m.month - 1] for m in f.months]
        title = f"{where}: {f.resource.value.replace('_', ' ')} per month"
        svg = month_bars(labels, [m.value for m in f.months], [m.previous for m in f.months], f.unit, title)
        charts.append(f"<figure>{svg}<figcaption class='note'>{escape(title)}</figcaption></figure>")
    return "".join(charts)


def _measure(result: MeasureResult, factors: Sequence[EmissionFactor]) -> str:
    text = measure_text(result, factors)
    parts = [f"<h3>{escape(text.title)}</h3>", f"<p>{escape(text.description)}</p>"]
    parts += [f"<p class='note'>{escape(note)}</p>" for note in text.notes]
    for line in text.lines:
        words = f"<strong>{escape(line.text)}</strong>" if line.headline else escape(line.text)
        parts.append(f"<p class='warn'>{words}</p>" if line.warning else f"<p>{words}</p>")
    if result.daily and result.savings.reportable:
        labels = [d.isoformat() for d, _, _ in result.daily]
        svg = two_lines(
            labels,
            [a for _, a, _ in result.daily],
            [e for _, _, e in result.daily],
            result.unit,
            f"{result.measure.id}: daily use",
        )
        parts.append(f"<figure>{svg}</figure>")
    return "".join(parts)


def render_html(report: YearReport) -> str:
    co2e, missing = co2e_total(report.site_figures)
    until = f"data until {report.data_until}" if report.data_until else "no data stored"
    sections = [
        f"<h1>{escape(report.site_name)}</h1>",
        f"<p>Energy and water report {report.year} · {until} · generated {report.generated_at:%Y-%m-%d %H:%M} UTC</p>",
        "<h2>Site</h2>",
        f"<p>{sum(a for _, _, a in report.buildings):,.0f} m² in {len(report.buildings)} buildings. "
        f"CO2e (location-based): <strong>{co2e / 1000:,.2f} t</strong>"
        + (f" <span class='warn'>(no factor set for {escape(', '.join(missing))})</span>" if missing else "")
        + "</p>",
        _figures_table(list(report.site_figures)),
        _charts(list(report.site_figures), "Site"),
    ]
    for building_id, name, area in report.buildings:
        rows = [f for f in report.figures if f.building == building_id]
        sections += [f"<h2>{escape(name)}</h2>", f"<p>{area:,.0f} m²</p>", _figures_table(rows), _charts(rows, name)]
    sections.append("<h2>Energy-saving measures</h2>")
    sections += [_measure(r, report.factors) for r in report.measures] or ["<p>No measures recorded.</p>"]
    sections.append("<h2>Method</h2><ul class='note'>")
    sections += [f"<li>{escape(line)}</li>" for line in [*METHOD, *emission_factor_lines(report)]]
    sections.append("</ul>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(report.site_name)}: report {report.year}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )
