"""The yearly report as one self-contained HTML file (inline CSS and SVG): what an owner sends a bank."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bms_bridge.savings.measures import MeasureResult
from bms_bridge.savings.report import YearReport
from bms_bridge.savings.svg import month_bars, two_lines
from metering.savings.report import ResourceFigures, co2e_total
from point_mapping.model import EmissionFactor

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STYLE = """
body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:60em;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;width:100%}th,td{padding:.3em .5em;border-bottom:1px solid #e5e5e5}
th{text-align:left;background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9em}.warn{color:#8a4b00}figure{margin:1em 0}
@media print{h2{page-break-before:auto}figure{page-break-inside:avoid}}
"""


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{suffix}"


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
            f'<td class="n">{_num(f.total)} {escape(f.unit)}</td>'
            f'<td class="n">{_num(f.intensity, 2)} {escape(f.unit)}/m²</td>'
            f'<td class="n">{_num(f.change_pct, 1, " %")}</td><td class="n">{co2}</td>'
            f'<td class="n">{_num(f.estimated_share_pct, 2, " %")}</td></tr>'
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
    m, s, fit = result.measure, result.savings, result.baseline.fit
    parts = [
        f"<h3>{escape(m.id)}: {escape(result.resource.value.replace('_', ' '))}, from {m.date}</h3>",
        f"<p>{escape(m.description)}</p>",
        f"<p class='note'>Points: {escape(', '.join(result.points))}.</p>",
    ]
    if fit is not None:
        parts.append(
            f"<p class='note'>Baseline {fit.first_day} to {fit.last_day}, {fit.days} days; "
            f"drivers: {escape(', '.join(result.baseline.drivers) or 'none')}; "
            f"CV(RMSE) {fit.cv_rmse_pct:.1f} %, NMBE {fit.nmbe_pct:+.3f} %, R² {fit.r_squared:.3f}.</p>"
        )
    if not s.reportable:
        parts.append(f"<p class='warn'>No savings figure: {escape('; '.join(s.reasons))}.</p>")
        return "".join(parts)
    confidence = round(result.baseline.settings.confidence * 100)
    expected = f" (expected {m.expected_saving_pct:g} %)" if m.expected_saving_pct else ""
    parts.append(
        f"<p><strong>Saved {s.savings:,.0f} ± {s.uncertainty:,.0f} {escape(result.unit)}</strong> "
        f"({s.savings_pct:.1f} %{expected}) over {s.days} days, {s.first_day} to {s.last_day}, "
        f"at {confidence} % confidence; the baseline expected {s.predicted:,.0f} and "
        f"{s.actual:,.0f} were used.</p>"
    )
    co2e = result.co2e_saved_kg(factors)
    if co2e is not None:
        parts.append(f"<p>That is {co2e / 1000:,.2f} t CO2e avoided (location-based).</p>")
    if not s.significant:
        parts.append("<p class='warn'>The saving is smaller than its uncertainty: it cannot be told from noise.</p>")
    if result.daily:
        labels = [d.isoformat() for d, _, _ in result.daily]
        svg = two_lines(
            labels, [a for _, a, _ in result.daily], [e for _, _, e in result.daily], result.unit, f"{m.id}: daily use"
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
    factors = sorted(
        {
            (f.factor.resource.value, f.factor.year, f.factor.kg_co2e_per_unit, f.factor.source)
            for f in report.site_figures
            if f.factor is not None
        }
    )
    sections.append("<h2>Method</h2><ul class='note'>")
    sections.append(
        "<li>Consumption is the difference of meter registers per quarter hour, summed by local month; a building "
        "is its main meters (meters that are nobody's sub-meter).</li>"
        "<li>Estimated data: quarter hours spread over a communication gap or that failed a plausibility check, "
        "as a share of the quarter hours stored.</li>"
        "<li>Savings: a baseline of daily use against heating and cooling degree days and working days, fitted by "
        "ordinary least squares on the days before each measure and judged by ASHRAE Guideline 14's CV(RMSE) "
        "and NMBE; savings are the baseline's prediction minus the measured use, with the prediction interval "
        "of the sum as uncertainty.</li>"
    )
    for resource, year, factor, source in factors:
        sections.append(
            f"<li>Emission factor {escape(resource)} {year}: {factor:g} kg CO2e per unit ({escape(source)}).</li>"
        )
    sections.append("</ul>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(report.site_name)}: report {report.year}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )
