"""Small inline SVG charts drawn by hand: no script, no CDN, the file prints and mails as it is."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 60, 10, 20, 40
THIS_YEAR, LAST_YEAR, BASELINE = "#1f6f8b", "#b8c7d1", "#d0782a"


def _scale(top: float) -> float:
    """A round axis maximum at or above `top` (1, 2, 4, 6, 8 × 10^k: its quarters are round too)."""
    if top <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(top))) / 10 if top >= 1 else 1.0
    for step in (1, 2, 4, 6, 8, 10):
        if step * magnitude >= top:
            return step * magnitude
    return 10 * magnitude


def _axis(maximum: float, unit: str) -> list[str]:
    parts = []
    plot_h = HEIGHT - TOP - BOTTOM
    for i in range(5):
        value = maximum * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    parts.append(f'<text x="4" y="{TOP - 6}">{escape(unit)}</text>')
    return parts


def _svg(parts: list[str], title: str) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def month_bars(
    labels: Sequence[str], values: Sequence[float], previous: Sequence[float | None], unit: str, title: str
) -> str:
    """Grouped bars per month: this year in front, the same month a year before beside it."""
    maximum = _scale(max([*values, *(p for p in previous if p is not None), 0.0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.38
    parts = _axis(maximum, unit)
    for i, label in enumerate(labels):
        x = LEFT + i * slot + slot * 0.1
        for offset, value, colour in ((0.0, previous[i], LAST_YEAR), (bar, values[i], THIS_YEAR)):
            if value is None:
                continue
            h = plot_h * value / maximum
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)}: {value:,.1f} {escape(unit)}</title></rect>'
            )
        parts.append(f'<text x="{x + bar:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(label)}</text>')
    legend_y = HEIGHT - 8
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 9}" width="10" height="10" fill="{THIS_YEAR}"/>')
    parts.append(f'<text x="{LEFT + 14}" y="{legend_y}">this year</text>')
    parts.append(f'<rect x="{LEFT + 90}" y="{legend_y - 9}" width="10" height="10" fill="{LAST_YEAR}"/>')
    parts.append(f'<text x="{LEFT + 104}" y="{legend_y}">year before</text>')
    return _svg(parts, title)


def two_lines(labels: Sequence[str], actual: Sequence[float], expected: Sequence[float], unit: str, title: str) -> str:
    """Daily use after a measure (solid) against what the baseline expected without it (dashed)."""
    maximum = _scale(max([*actual, *expected, 0.0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(2, len(actual))

    def path(values: Sequence[float]) -> str:
        points = (
            f"{LEFT + plot_w * i / (count - 1):.1f},{TOP + plot_h - plot_h * v / maximum:.1f}"
            for i, v in enumerate(values)
        )
        return " ".join(points)

    parts = _axis(maximum, unit)
    parts.append(f'<polyline fill="none" stroke="{BASELINE}" stroke-dasharray="4 3" points="{path(expected)}"/>')
    parts.append(f'<polyline fill="none" stroke="{THIS_YEAR}" points="{path(actual)}"/>')
    for i, anchor in ((0, "start"), (len(labels) - 1, "end")) if labels else ():
        x = LEFT + plot_w * i / (count - 1)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="{anchor}">{escape(labels[i])}</text>')
    legend_y = HEIGHT - 8
    parts.append(f'<line x1="{LEFT}" x2="{LEFT + 16}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{THIS_YEAR}"/>')
    parts.append(f'<text x="{LEFT + 20}" y="{legend_y}">measured</text>')
    parts.append(
        f'<line x1="{LEFT + 90}" x2="{LEFT + 106}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{BASELINE}" '
        'stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{LEFT + 110}" y="{legend_y}">baseline (without the measure)</text>')
    return _svg(parts, title)
