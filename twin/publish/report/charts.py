"""Building blocks of the capacity report: inline SVG charts, tables, number formats, the stylesheet.

The report opens from a file on a planner's laptop with no network, so every chart is plain SVG
markup inside the page and the CSS is inline: no JavaScript, no fonts or images from elsewhere.
Text from the data always goes through ``esc`` (``html.escape``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 70, 22, 14, 40  # room for the y tick labels and the week labels


@dataclass(frozen=True)
class BandPoint:
    """One bucket of a capacity band: the pessimistic, median and optimistic capacity."""

    week: dt.date
    p10: float
    p50: float
    p90: float
    days: int = 7  # fewer for a week cut by the horizon
    partial: bool = False  # the horizon covers only part of it (capacity_supply is_partial)

    @property
    def is_partial(self) -> bool:
        return self.partial or self.days < 7


def fmt_number(value: float | None, digits: int = 0) -> str:
    """Thousands separators for planners; a dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``top`` (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
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
        partial = f" (partial week, {p.days} days)" if p.is_partial else ""
        tip = (
            f"week of {p.week:%Y-%m-%d}{partial}: P10 {fmt_number(p.p10)}, "
            f"P50 {fmt_number(p.p50)}, P90 {fmt_number(p.p90)} {uom}"
        )
        css = "dot partial" if p.is_partial else "dot"
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


def esc(value: Any) -> str:
    """Escape any value for HTML text or attributes; a dash for missing values."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    return escape(str(value))


def pct(value: Any, digits: int = 0) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value) * 100:.{digits}f}%"


def table(
    caption: str,
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    row_css: Sequence[str] = (),
    left: Collection[int] = (),
) -> str:
    """A real table; cells arrive already escaped, the first cell of each row is its header.

    ``left`` names the text columns (besides the first) whose heading aligns left like their cells.
    """
    cells = "".join(
        f'<th scope="col"{" class=text" if i == 0 or i in left else ""}>{esc(h)}</th>'
        for i, h in enumerate(head)
    )
    body = []
    for n, row in enumerate(rows):
        css = f' class="{row_css[n]}"' if n < len(row_css) and row_css[n] else ""
        body.append(f'<tr{css}><th scope="row">{row[0]}</th>{"".join(row[1:])}</tr>')
    return f"<table><caption>{esc(caption)}</caption><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def td(text: str, css: str = "") -> str:
    return f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>"


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;margin:0;background:#f4f6f8}
main{max-width:1180px;margin:0 auto;padding:16px 24px 40px}
header{background:#1f3a5a;color:#fff;padding:16px 24px}
header h1{margin:0 0 8px;font-size:22px}
header dl{display:flex;flex-wrap:wrap;gap:2px 36px;margin:0}
header dt{font-size:11px;text-transform:uppercase;opacity:.75}header dd{margin:0 0 6px;font-weight:600}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}h3{font-size:15px;margin:10px 0 4px}
.fans{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:8px 24px}
figure{margin:0}svg.fan{width:100%;height:auto;max-width:640px}
.band{fill:#9cc3e6;opacity:.6}.median{fill:none;stroke:#1f5f99;stroke-width:2.5}
.dot{fill:#1f5f99}.dot.partial{fill:#fff;stroke:#1f5f99;stroke-width:1.5}
.grid{stroke:#e3e8ee}.ytick{font-size:13px;text-anchor:end;fill:#5b6b7b}
.xtick{font-size:13px;text-anchor:middle;fill:#5b6b7b}.axis{font-size:13px;text-anchor:middle;fill:#5b6b7b}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
th,td{padding:3px 10px;border-bottom:1px solid #e6eaef;text-align:right;white-space:nowrap}
th{background:#eef2f6;font-weight:600}th[scope=row],td.text,th.text{text-align:left}
caption{caption-side:top;text-align:left;color:#5b6b7b;padding:2px 0 6px;white-space:nowrap}
.muted{color:#5b6b7b}.up{color:#1b7a3a}.down{color:#b3261e}
tr.high td{background:#fbe3e1}tr.medium td{background:#fff3d6}td.low-data{background:#fff3d6;font-weight:600}
.bar{display:inline-block;width:90px;height:9px;background:#e6eaef;margin-left:8px;vertical-align:middle}
.bar span{display:block;height:100%;background:#c0662b}
.legend span{display:inline-block;width:14px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
"""
