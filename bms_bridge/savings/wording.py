"""The yearly report's words, written once for both renderings (html.py and pdf.py).

Plain text here; each renderer escapes and lays it out in its own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bms_bridge.savings.measures import MeasureResult
from bms_bridge.savings.report import YearReport
from point_mapping.model import EmissionFactor

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

METHOD = (
    "Consumption is the difference of meter registers per quarter hour, summed by local month; a building is its"
    " main meters (meters that are nobody's sub-meter).",
    "Estimated data: quarter hours spread over a communication gap or that failed a plausibility check, as a share"
    " of the quarter hours stored.",
    "Savings: a baseline of daily use against heating and cooling degree days and working days, fitted by ordinary"
    " least squares on the days before each measure and judged by ASHRAE Guideline 14's CV(RMSE) and NMBE; savings"
    " are the baseline's prediction minus the measured use, with the prediction interval of the sum as uncertainty.",
)


def number(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{suffix}"


@dataclass(frozen=True)
class Line:
    text: str
    warning: bool = False  # a figure withheld or not to be trusted
    headline: bool = False  # the saving itself


@dataclass(frozen=True)
class MeasureText:
    title: str
    description: str
    notes: list[str] = field(default_factory=list)  # points and the baseline's fit
    lines: list[Line] = field(default_factory=list)  # the outcome


def measure_text(result: MeasureResult, factors: Sequence[EmissionFactor]) -> MeasureText:
    m, s, fit = result.measure, result.savings, result.baseline.fit
    notes = [f"Points: {', '.join(result.points)}."]
    if fit is not None:
        notes.append(
            f"Baseline {fit.first_day} to {fit.last_day}, {fit.days} days; drivers: "
            f"{', '.join(result.baseline.drivers) or 'none'}; CV(RMSE) {fit.cv_rmse_pct:.1f} %, "
            f"NMBE {fit.nmbe_pct:+.3f} %, R² {fit.r_squared:.3f}."
        )
    text = MeasureText(f"{m.id}: {result.resource.value.replace('_', ' ')}, from {m.date}", m.description, notes)
    if not s.reportable:
        text.lines.append(Line(f"No savings figure: {'; '.join(s.reasons)}.", warning=True))
        return text
    confidence = round(result.baseline.settings.confidence * 100)
    expected = f" (expected {m.expected_saving_pct:g} %)" if m.expected_saving_pct else ""
    text.lines.append(
        Line(
            f"Saved {s.savings:,.0f} ± {s.uncertainty:,.0f} {result.unit} ({s.savings_pct:.1f} %{expected}) over"
            f" {s.days} days, {s.first_day} to {s.last_day}, at {confidence} % confidence; the baseline expected"
            f" {s.predicted:,.0f} and {s.actual:,.0f} were used.",
            headline=True,
        )
    )
    co2e = result.co2e_saved_kg(factors)
    if co2e is not None:
        text.lines.append(Line(f"That is {co2e / 1000:,.2f} t CO2e avoided (location-based)."))
    if not s.significant:
        text.lines.append(
            Line("The saving is smaller than its uncertainty: it cannot be told from noise.", warning=True)
        )
    return text


def emission_factor_lines(report: YearReport) -> list[str]:
    """One sentence per emission factor the site's figures used."""
    factors = sorted(
        {
            (f.factor.resource.value, f.factor.year, f.factor.kg_co2e_per_unit, f.factor.source)
            for f in report.site_figures
            if f.factor is not None
        }
    )
    return [f"Emission factor {r} {y}: {k:g} kg CO2e per unit ({src})." for r, y, k, src in factors]
