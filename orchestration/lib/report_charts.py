"""Inline SVG charts for the capacity report: no JavaScript, no fonts or images from elsewhere.

The report opens from a file on a planner's laptop with no network, so every chart is plain SVG
markup inside the page. Text in the SVG goes through ``html.escape`` like the rest of the page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 40  # room for the y tick labels and the week labels


@dataclass(frozen=True)
class BandPoint:
    """One bucket of a capacity band: the pessimistic, median and optimistic capacity."""

    week: dt.date
    p10: float
    p50: float
    p90: float
    days: int = 7  # fewer for a week cut by the horizon


def fmt_number(value: float | None, digits: int = 0) -> str:
    """Thousands separators for planners; a dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``top`` (steps of 1, 2 or 5 × 10^k)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def fan_chart(svg_id: str, title: str, points: Sequence[BandPoint], uom: str) -> str:
    """A P10–P90 band with the P50 line over the weeks, as an accessible inline SVG."""
    if not points:
        return (
            f'<p id="{escape(svg_id)}" class="muted">No weekly baseline capacity for this line.</p>'
        )
    ticks = nice_ticks(max(p.p90 for p in points) * 1.05)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        # Centre a single bucket; otherwise spread the weeks over the full width.
        return LEFT + (plot_w / 2 if len(points) == 1 else i * plot_w / (len(points) - 1))

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / ticks[-1])

    upper = [f"{x(i):.1f},{y(p.p90):.1f}" for i, p in enumerate(points)]
    lower = [f"{x(i):.1f},{y(p.p10):.1f}" for i, p in reversed(list(enumerate(points)))]
    median = " ".join(f"{x(i):.1f},{y(p.p50):.1f}" for i, p in enumerate(points))
    parts = [
        f'<svg id="{escape(svg_id)}" class="fan" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-labelledby="{escape(svg_id)}-title">',
        f'<title id="{escape(svg_id)}-title">{escape(title)}</title>',
    ]
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="ytick" x="{LEFT - 6}" y="{y(tick) + 4:.1f}">{fmt_number(tick)}</text>'
        )
    every = max(1, math.ceil(len(points) / 7))  # at most ~7 week labels fit under 640 px
    for i, p in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="xtick" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}">{p.week:%d %b}</text>'
            )
    parts.append(
        f'<text class="axis" x="12" y="{TOP + plot_h / 2:.0f}"'
        f' transform="rotate(-90 12 {TOP + plot_h / 2:.0f})">{escape(uom)} / week</text>'
    )
    parts.append(f'<polygon class="band" points="{" ".join(upper + lower)}"/>')
    parts.append(f'<polyline class="median" points="{median}"/>')
    for i, p in enumerate(points):
        partial = f" (partial week, {p.days} days)" if p.days < 7 else ""
        tip = (
            f"week of {p.week:%Y-%m-%d}{partial}: P10 {fmt_number(p.p10)}, "
            f"P50 {fmt_number(p.p50)}, P90 {fmt_number(p.p90)} {uom}"
        )
        css = "dot partial" if p.days < 7 else "dot"
        parts.append(
            f'<circle class="{css}" cx="{x(i):.1f}" cy="{y(p.p50):.1f}" r="3.5">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def share_bar(share: float) -> str:
    """A small horizontal bar for a 0–1 share, drawn with CSS only."""
    pct = max(0.0, min(1.0, share)) * 100
    return f'<span class="bar" aria-hidden="true"><span style="width:{pct:.0f}%"></span></span>'
