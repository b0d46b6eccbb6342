"""Report section ``prediction-effect``: what the failure-risk prediction changed in the plan.

From the published ``prediction_effect`` table: per line and week, the baseline's P50 with the
twin's near-term risk next to the same scenario on history-only failure rates, and the difference.
A planner reads it as "the model expects line L2 to make 340 units (6 %) less this week than its
history alone says"; weeks where the two agree within the simulation's noise (2 %) are muted.
"""

from __future__ import annotations

import pandas as pd

from twin.publish.report.charts import esc, fmt_number, table, td

SECTION_ID = "prediction-effect"
WEEKS_SHOWN = 4  # the risk acts on the first failure: by the fourth week the runs agree
# |difference| below this reads as "no change": two seeds of one run differ by up to 1.7 % per
# line-week on the demo plant (twin.simulation.prediction_effect)
QUIET_SHARE = 0.02


def prediction_effect_section(effect: pd.DataFrame | None) -> str:
    """The section's HTML; a short note when the publication has no effect rows."""
    title = "<h2>What the failure prediction changed</h2>"
    if effect is None or effect.empty:
        note = (
            '<p class="muted">No prediction effect in this publication (no baseline scenario, '
            "or a version published before the effect was computed).</p>"
        )
        return f'<section id="{SECTION_ID}">{title}{note}</section>'
    frame = effect.assign(bucket_start=pd.to_datetime(effect["bucket_start"]).dt.date)
    frame = frame.sort_values(["line_id", "bucket_start"])
    rows, css = [], []
    for line_id, group in frame.groupby("line_id", sort=True):
        for r in group.head(WEEKS_SHOWN).itertuples():
            share = r.p50_difference_share
            quiet = pd.isna(share) or abs(share) < QUIET_SHARE
            tone = "muted" if quiet else "down" if share < 0 else "up"
            diff = fmt_number(r.p50_difference_units)
            if not pd.isna(share):
                diff += f" ({share * 100:+.1f}%)"
            rows.append(
                [
                    esc(line_id),
                    td(esc(f"{r.bucket_start:%Y-%m-%d}" + ("*" if r.is_partial else "")), "text"),
                    td(fmt_number(r.capacity_p50_with_risk)),
                    td(fmt_number(r.capacity_p50_history_only)),
                    td(f'<span class="{tone}">{esc(diff)}</span>'),
                    td(str(int(r.machines_with_risk))),
                ]
            )
            css.append("")
    uom = str(frame["uom"].iloc[0])
    scenario = str(frame["scenario_id"].iloc[0])
    body = table(
        f"Weekly P50 capacity ({uom}), scenario {scenario}: with the twin's near-term failure risk"
        f" vs. history-only failure rates, same seed; first {WEEKS_SHOWN} weeks (* partial week)",
        ["line", "week", "P50 with risk", "P50 history only", "difference", "machines scored"],
        rows,
        css,
        left={1},
    )
    legend = (
        '<p class="legend muted">Negative: the model expects failures sooner than the failure'
        " history does (less capacity); positive: machines scored healthier than their history."
        f" Differences under {QUIET_SHARE * 100:.0f}% are within the simulation's noise.</p>"
    )
    return f'<section id="{SECTION_ID}">{title}{legend}{body}</section>'
