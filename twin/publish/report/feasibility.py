"""Report section ``feasibility``: the demand plan against the capacity band, per line and week.

From the published ``capacity_feasibility`` table. For the planner's supply review: the baseline
scenario's overloaded weeks first (lowest P(meet demand)), each with its demand, its P10-P90 band
for the demand's mix, and what the best other scenario makes of the same week.
"""

from __future__ import annotations

import pandas as pd

from twin.publish.report.charts import esc, fmt_number, pct, table, td

SECTION_ID = "feasibility"
ROWS_SHOWN = 12
TONE = {"feasible": "up", "at_risk": "muted", "infeasible": "down"}


def feasibility_section(feasibility: pd.DataFrame | None, baseline: str) -> str:
    """The section's HTML; a short note when no demand plan has landed."""
    title = "<h2>Demand plan against capacity</h2>"
    if feasibility is None or feasibility.empty:
        note = (
            '<p class="muted">No demand plan in this publication: land one in'
            " <code>landing/demand_plan/</code> (data_contracts/README.md).</p>"
        )
        return f'<section id="{SECTION_ID}">{title}{note}</section>'
    frame = feasibility.assign(bucket_start=pd.to_datetime(feasibility["bucket_start"]).dt.date)
    base = frame[frame["scenario_id"] == baseline]
    if base.empty:  # no scenario named baseline: the first one stands for the plan of record
        base = frame[frame["scenario_id"] == sorted(frame["scenario_id"])[0]]
    others = frame[frame["scenario_id"] != base["scenario_id"].iloc[0]]
    best = (
        others.sort_values("p_meet_demand", ascending=False)
        .groupby(["line_id", "bucket_start"])
        .head(1)
        .set_index(["line_id", "bucket_start"])
    )
    ordered = base.sort_values(["p_meet_demand", "load_ratio_p50"], ascending=[True, False])
    rows, css = [], []
    for r in ordered.head(ROWS_SHOWN).itertuples():
        alt = (
            best.loc[(r.line_id, r.bucket_start)]
            if (r.line_id, r.bucket_start) in best.index
            else None
        )
        alternative = (
            f"{esc(alt['scenario_id'])}: {pct(alt['p_meet_demand'])} ({esc(alt['status'])})"
            if alt is not None
            else "—"
        )
        rows.append(
            [
                esc(r.line_id),
                td(esc(f"{r.bucket_start:%Y-%m-%d}"), "text"),
                td(fmt_number(r.demand_units)),
                td(
                    f"{fmt_number(r.capacity_units_p10)} / {fmt_number(r.capacity_units_p50)}"
                    f" / {fmt_number(r.capacity_units_p90)}"
                ),
                td(pct(r.p_meet_demand)),
                td(f'<span class="{TONE[r.status]}">{esc(r.status.replace("_", " "))}</span>'),
                td(alternative, "text"),
            ]
        )
        css.append("")
    counts = base["status"].value_counts()
    summary = ", ".join(
        f"{int(counts.get(s, 0))} {s.replace('_', ' ')}"
        for s in ("infeasible", "at_risk", "feasible")
    )
    body = table(
        f"Plan {base['plan_version'].iloc[0]}, scenario {base['scenario_id'].iloc[0]}: {summary}"
        f" line-weeks; the {min(ROWS_SHOWN, len(base))} least likely to be met first",
        [
            "line",
            "week",
            "demand",
            "capacity P10 / P50 / P90",
            "P(meet)",
            "status",
            "best other scenario",
        ],
        rows,
        css,
        left={1, 6},
    )
    legend = (
        '<p class="legend muted">P(meet) is the share of simulated weeks in which the line makes the'
        " demand (feasible from 90 %, at risk from 50 %). Capacity is in units of the demand's own"
        " product mix.</p>"
    )
    return f'<section id="{SECTION_ID}">{title}{legend}{body}</section>'
