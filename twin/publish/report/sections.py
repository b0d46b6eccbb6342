"""The sections of the capacity report, each a piece of HTML built from one published table.

The page assembly (twin/publish/report/page.py) puts them in order. Sections carry stable ids
(``capacity-fan-<line>``, ``scenario-comparison``, ``bottlenecks``, ``machines-at-risk``,
``data-completeness``, ``forecast-accuracy``) that the tests and anyone linking into the page rely on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from twin.publish.report.charts import (
    BandPoint,
    esc,
    fan_chart,
    fmt_number,
    pct,
    share_bar,
    table,
    td,
)

BASELINE = "baseline"
TOP_BOTTLENECKS = 3
RISK_ROWS = 20  # a plant manager reads the top of the list; the rest stays in the catalog
KPI_DAYS = 7


def line_weeks(capacity: pd.DataFrame) -> pd.DataFrame:
    """Weekly line rows, one row per line × scenario × week with p10/p50/p90 capacity columns."""
    rows = capacity[(capacity["resource_level"] == "line") & (capacity["bucket_grain"] == "week")]
    if rows.empty:
        return pd.DataFrame(
            columns=["line_id", "scenario_id", "bucket_start", "days", "partial", "uom"]
        )
    wide = rows.pivot_table(
        index=["line_id", "scenario_id", "bucket_start", "bucket_end", "uom"],
        columns="quantile",
        values="capacity_units",
        aggfunc="first",
    ).reset_index()
    for quantile in ("p10", "p50", "p90"):  # a missing quantile shows as a gap, not a crash
        if quantile not in wide:
            wide[quantile] = float("nan")
    starts, ends = pd.to_datetime(wide["bucket_start"]), pd.to_datetime(wide["bucket_end"])
    wide["days"] = (ends - starts).dt.days
    # capacity_supply 1.1.0 says which buckets the horizon covers only in part (the first week
    # starts at the last data time); before that, only a week with fewer days was partial
    flags = (
        rows.groupby(["line_id", "scenario_id", "bucket_start"])["is_partial"].any()
        if "is_partial" in rows.columns
        else None
    )
    keys = pd.MultiIndex.from_frame(wide[["line_id", "scenario_id", "bucket_start"]])
    marked = flags.reindex(keys).fillna(False).to_numpy(bool) if flags is not None else False
    wide["partial"] = (wide["days"] < 7) | marked
    wide["bucket_start"] = starts.dt.date
    return wide.sort_values(["line_id", "scenario_id", "bucket_start"])


def baseline_scenario(scenarios: Iterable[str]) -> str:
    names = sorted(set(scenarios))
    return BASELINE if BASELINE in names or not names else names[0]


def capacity_section(weeks: pd.DataFrame, baseline: str) -> str:
    base = weeks[weeks["scenario_id"] == baseline]
    charts = []
    for line_id, frame in base.groupby("line_id", sort=True):
        uom = str(frame["uom"].iloc[0])
        points = [
            BandPoint(
                r.bucket_start, float(r.p10), float(r.p50), float(r.p90), int(r.days), r.partial
            )
            for r in frame.itertuples()
        ]
        title = (
            f"Line {line_id}: weekly capacity, scenario {baseline}, P10–P90 band and P50 line, "
            f"{len(points)} weeks from {points[0].week:%Y-%m-%d}"
        )
        rows = [
            [
                esc(f"{p.week:%Y-%m-%d}" + ("*" if p.is_partial else "")),
                *(td(fmt_number(v)) for v in (p.p10, p.p50, p.p90)),
            ]
            for p in points
        ]
        numbers = table(f"{uom} per week (* partial week)", ["week", "P10", "P50", "P90"], rows)
        charts.append(
            f"<figure><h3>Line {esc(line_id)}</h3>{fan_chart(f'capacity-fan-{line_id}', title, points, uom)}"
            f"<details><summary>Weekly numbers</summary>{numbers}</details></figure>"
        )
    legend = (
        '<p class="legend muted">Scenario <b>' + esc(baseline) + "</b>."
        '<span style="background:#9cc3e6"></span>P10–P90: 8 in 10 simulated weeks fall inside'
        '<span style="background:#1f5f99;height:3px"></span>P50 (median); hollow dot = week cut by the horizon</p>'
    )
    body = "".join(charts) or '<p class="muted">No weekly line capacity in this publication.</p>'
    return f'<section id="capacity"><h2>Capacity per line and week</h2>{legend}<div class="fans">{body}</div></section>'


def scenario_section(weeks: pd.DataFrame, baseline: str) -> str:
    # Mean over whole weeks only: a week cut by the horizon would pull every scenario's mean down.
    whole = weeks[~weeks["partial"]] if (~weeks["partial"]).any() else weeks
    means = whole.groupby(["line_id", "scenario_id"])["p50"].mean().unstack("scenario_id")
    scenarios = [baseline, *sorted(c for c in means.columns if c != baseline)] if len(means) else []
    rows = []
    for line_id, row in means.iterrows():
        base = row.get(baseline)
        cells = []
        for scenario in scenarios:
            value = row.get(scenario)
            text = fmt_number(value)
            if scenario != baseline and base and not pd.isna(value):
                diff = (value - base) / base
                css = "up" if diff > 0.0005 else "down" if diff < -0.0005 else "muted"
                text += f' <span class="{css}">({diff * 100:+.1f}%)</span>'
            cells.append(td(text))
        rows.append([esc(line_id), *cells])
    html_table = table(
        "Mean weekly P50 capacity over the horizon (whole weeks), and the difference to the baseline",
        ["line", *scenarios],
        rows,
    )
    return f'<section id="scenario-comparison"><h2>Scenario comparison</h2>{html_table}</section>'


def bottleneck_section(constraints: pd.DataFrame, baseline: str) -> str:
    frame = constraints[constraints["scenario_id"] == baseline]
    if frame.empty:
        body = '<p class="muted">No constraint map for the baseline scenario.</p>'
    else:
        grain = "week" if (frame["bucket_grain"] == "week").any() else "day"
        share = (
            frame[frame["bucket_grain"] == grain]
            .groupby(["line_id", "machine_id"])["bottleneck_share"]
            .mean()
            .reset_index()
            .sort_values(["line_id", "bottleneck_share"], ascending=[True, False])
        )
        rows = [
            [
                esc(r.line_id),
                td(esc(r.machine_id), "text"),
                td(pct(r.bottleneck_share) + share_bar(r.bottleneck_share)),
            ]
            for _, group in share.groupby("line_id", sort=True)
            for r in group.head(TOP_BOTTLENECKS).itertuples()
        ]
        body = table(
            f"Top {TOP_BOTTLENECKS} constraint machines per line: share of simulated time each was the line's bottleneck ({baseline}, mean over {grain}s)",
            ["line", "machine", "bottleneck share"],
            rows,
            left={1},
        )
    return f'<section id="bottlenecks"><h2>Bottlenecks</h2>{body}</section>'


def risk_section(risk: pd.DataFrame) -> str:
    if risk.empty:
        return '<section id="machines-at-risk"><h2>Machines at risk</h2><p class="muted">No failure-risk scores in this publication.</p></section>'
    ranked = risk.sort_values(["p_failure_72h", "machine_id"], ascending=[False, True])
    top = ranked.head(RISK_ROWS)
    rows = [
        [
            esc(r.machine_id),
            td(pct(r.p_failure_72h, 1)),
            *(
                td(fmt_number(v, 0))
                for v in (r.hours_to_failure_p10, r.hours_to_failure_p50, r.hours_to_failure_p90)
            ),
            td(esc(r.failure_mode), "text"),
        ]
        for r in top.itertuples()
    ]
    css = ["high" if p >= 0.5 else "medium" if p >= 0.2 else "" for p in top["p_failure_72h"]]
    as_of = pd.to_datetime(risk["as_of"]).max()
    more = f" ({len(ranked) - RISK_ROWS} more in the catalog)" if len(ranked) > RISK_ROWS else ""
    html_table = table(
        f"Probability of a failure in the next 72 h, as of {as_of:%Y-%m-%d %H:%M} UTC{more}; "
        "red ≥ 50%, amber ≥ 20%",
        ["machine", "P(failure 72 h)", "hours to failure P10", "P50", "P90", "likely failure mode"],
        rows,
        css,
        left={5},
    )
    return f'<section id="machines-at-risk"><h2>Machines at risk</h2>{html_table}</section>'


def _completeness_cell(value: Any) -> str:
    """Null completeness is 'not applicable' (no sensors declared; the kpi_daily contract allows
    a null only then): shown as n/a, not as missing data and not highlighted."""
    if value is None or pd.isna(value):
        return td("n/a", "muted")
    return td(pct(value, 1), "low-data" if float(value) < 0.95 else "")


def completeness_section(kpis: pd.DataFrame) -> str:
    lines = kpis[kpis["machine_id"].isna()].copy()
    if lines.empty:
        return '<section id="data-completeness"><h2>Data completeness and OEE</h2><p class="muted">No line KPIs in this publication.</p></section>'
    lines["date"] = pd.to_datetime(lines["date"]).dt.date
    days = sorted(lines["date"].unique())[-KPI_DAYS:]
    recent = lines[lines["date"].isin(days)].sort_values(["line_id", "date"])
    rows = [
        [
            esc(r.line_id),
            td(esc(f"{r.date:%a %Y-%m-%d}"), "text"),
            *(td(pct(v, 1)) for v in (r.oee, r.availability, r.performance, r.quality)),
            _completeness_cell(r.data_completeness),
        ]
        for r in recent.itertuples()
    ]
    html_table = table(
        f"Line KPIs (ISO 22400) for the last {len(days)} days; completeness under 95% is highlighted"
        " (n/a: no machine of the line declares sensors)",
        ["line", "day", "OEE", "availability", "performance", "quality", "data completeness"],
        rows,
        left={1},
    )
    return (
        f'<section id="data-completeness"><h2>Data completeness and OEE</h2>{html_table}</section>'
    )


def _yes_no(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else "yes" if bool(value) else "no"


def accuracy_section(accuracy: pd.DataFrame | None) -> str:
    head = '<section id="forecast-accuracy"><h2>How well last weeks’ forecasts held</h2>'
    if accuracy is None or accuracy.empty:
        return head + '<p class="muted">No actuals yet for a published week.</p></section>'
    frame = accuracy.sort_values(["line_id", "week_start"])
    inside = frame["inside_band"].astype("boolean")
    summary = (
        f"<p>{int(inside.sum())} of {int(inside.count())} line-weeks fell inside the published P10–P90 band; "
        f"mean absolute error of the P50: {frame['error_pct'].abs().mean():.1%}.</p>"
    )
    rows = [
        [
            esc(r.line_id),
            td(esc(f"{pd.Timestamp(r.week_start):%Y-%m-%d}"), "text"),
            *(
                td(fmt_number(v))
                for v in (r.published_p10, r.published_p50, r.published_p90, r.actual_units)
            ),
            # error_pct is a share (contract: (actual − P50) / P50), shown as a percentage
            td(f"{r.error_pct:+.1%}" if not pd.isna(r.error_pct) else "–"),
            td(_yes_no(r.inside_band)),
        ]
        for r in frame.itertuples()
    ]
    html_table = table(
        "Published capacity of past weeks against what the line produced (error = actual vs P50)",
        ["line", "week", "published P10", "P50", "P90", "actual", "error", "inside band"],
        rows,
        left={1},
    )
    return head + summary + html_table + "</section>"


def _span(span: Mapping[str, Any] | None) -> str:
    return f"{span.get('start', '–')} to {span.get('end', '–')}" if span else "–"


def page_header(tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]) -> str:
    sites = sorted(
        {str(s) for t in tables.values() if "site_id" in t for s in t["site_id"].dropna()}
    )
    data = manifest.get("data") or {}
    window = data.get("window") or {}
    scenario_set = manifest.get("scenario_set")
    if isinstance(scenario_set, list | tuple):
        scenario_set = ", ".join(map(str, scenario_set))
    switch = manifest.get("switch") or {}
    facts = {
        "site": ", ".join(sites) or "–",
        "publication": manifest.get("publication_id"),
        "published at (UTC)": str(manifest.get("published_at", ""))[:19].replace("T", " "),
        "data window": _span(window),
        "capacity horizon": _span(data.get("capacity_horizon")),
        "model version": manifest.get("model_version"),
        "scenario set": scenario_set,
    }
    if switch.get("kind") == "rollback":
        facts["made current again"] = (
            f"rollback at {str(switch.get('at', ''))[:19].replace('T', ' ')}"
        )
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts.items())
    return f'<header id="report-header"><h1>Capacity report — {esc(facts["site"])}</h1><dl>{items}</dl></header>'
