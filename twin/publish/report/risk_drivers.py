"""Report section "Why at risk": the signals behind each machine's failure risk, and which model said so.

Reads the optional driver columns of ``machine_failure_risk`` (contract 1.1.0, ml/drivers.py). A
publication made before 1.1.0 has no such columns; its report says so instead of showing blanks.
"""

from __future__ import annotations

import pandas as pd

from twin.publish.report.charts import esc, pct, table, td

SECTION_ID = "why-at-risk"
DRIVER_ROWS = 20  # the same top of the list as "Machines at risk"


def risk_drivers_section(risk: pd.DataFrame) -> str:
    head = f'<section id="{SECTION_ID}"><h2>Why at risk</h2>'
    if risk.empty:
        return f'{head}<p class="muted">No failure-risk scores in this publication.</p></section>'
    if "risk_drivers" not in risk.columns:
        return (
            f'{head}<p class="muted">This publication predates the risk drivers '
            "(machine_failure_risk contract 1.1.0).</p></section>"
        )
    ranked = risk.sort_values(["p_failure_72h", "machine_id"], ascending=[False, True])
    top = ranked.head(DRIVER_ROWS)
    rows = [
        [esc(r.machine_id), td(pct(r.p_failure_72h, 1)), td(esc(r.risk_drivers), "text")]
        for r in top.itertuples()
    ]
    versions = sorted({str(v) for v in risk["model_version"].dropna()})
    source = "; ".join(versions) or "unknown model"
    html_table = table(
        "Top signals behind each score: a feature's deviation from the machine's own healthy "
        "baseline in robust standard deviations (σ), and Δp, how much the 72 h probability falls "
        "when that signal is put back to its baseline",
        ["machine", "P(failure 72 h)", "drivers"],
        rows,
        left={2},
    )
    return f'{head}<p class="muted">Scored by {esc(source)}.</p>{html_table}</section>'
