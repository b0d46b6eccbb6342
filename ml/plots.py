"""Review plots for a failure-risk model, as matplotlib Figures.

Built with ``matplotlib.figure.Figure`` directly (no pyplot): no global backend or figure registry is
touched, figures are garbage-collected, and saving renders with Agg whatever backend is configured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.metrics import precision_recall_curve

from ml.evaluate import Evaluation


def pr_curve(evaluation: Evaluation) -> Figure:
    s = evaluation.scored
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.add_subplot()
    if s["y"].nunique() == 2:
        precision, recall, _ = precision_recall_curve(s["y"], s["p"])
        ax.plot(recall, precision, label=f"PR-AUC {evaluation.metrics['pr_auc']:.3f}")
    ax.axhline(s["y"].mean(), ls=":", c="grey", label="base rate")
    ax.set(xlabel="row recall", ylabel="row precision", title="Precision-recall (held-out rows)")
    ax.legend(loc="lower left")
    return fig


def calibration_plot(evaluation: Evaluation, n_bins: int = 10) -> Figure:
    s = evaluation.scored
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="perfect")
    if s["y"].nunique() == 2:
        frac, mean_p = sk_calibration_curve(s["y"], s["p"], n_bins=n_bins, strategy="uniform")
        ax.plot(mean_p, frac, marker="o", label=f"ECE {evaluation.metrics['ece']:.3f}")
    ax.set(
        xlabel="predicted p_failure_72h",
        ylabel="observed share failing within 72 h",
        title="Calibration (held-out rows)",
    )
    ax.legend(loc="upper left")
    return fig


def feature_importance_plot(importance: pd.DataFrame, top: int = 15) -> Figure:
    imp = importance.head(top).iloc[::-1]
    fig = Figure(figsize=(6, 0.35 * len(imp) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(imp["feature"], imp["importance"], xerr=imp["std"], color="tab:blue")
    ax.set(xlabel="drop in average precision when shuffled", title="Permutation importance")
    return fig


def risk_timelines(
    evaluation: Evaluation, horizon_h: float, lookback_h: float = 168.0, max_events: int = 12
) -> Figure:
    """p_failure_72h over the week before each held-out failure, with the threshold and the 72 h window."""
    events = evaluation.events.sort_values("failure_start").head(max_events)
    n = max(len(events), 1)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4 * cols, 2.4 * rows), layout="constrained")
    thr = evaluation.metrics["threshold"]
    s = evaluation.scored
    for i, ev in enumerate(events.itertuples()):
        ax = fig.add_subplot(rows, cols, i + 1)
        start = pd.Timestamp(ev.failure_start)
        g = s[
            (s["machine_id"] == ev.machine_id)
            & (s["as_of"] >= start - pd.Timedelta(hours=lookback_h))
            & (s["as_of"] < start)
        ]
        hours_before = (g["as_of"] - start) / pd.Timedelta(hours=1)
        ax.plot(hours_before, g["p"], lw=1)
        ax.axvspan(-horizon_h, 0, color="tab:red", alpha=0.1)
        ax.axhline(thr, ls="--", c="k", lw=0.8)
        mode = getattr(ev, "failure_mode", None)
        flag = "" if getattr(ev, "had_precursor", True) is not False else " (no precursor)"
        ax.set_title(f"{ev.machine_id} {start:%Y-%m-%d %H:%M} {mode or ''}{flag}", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_xlim(-lookback_h, 0)
    if events.empty:
        fig.add_subplot().text(0.5, 0.5, "no failures in the held-out period", ha="center")
    fig.supxlabel("hours before failure")
    fig.supylabel("p_failure_72h")
    return fig


def review_figures(
    evaluation: Evaluation, importance: pd.DataFrame | None, horizon_h: float
) -> dict[str, Figure]:
    """File name → figure, for logging next to the model."""
    figs = {
        "plots/pr_curve.png": pr_curve(evaluation),
        "plots/calibration.png": calibration_plot(evaluation),
        "plots/risk_before_failures.png": risk_timelines(evaluation, horizon_h),
    }
    if importance is not None:
        figs["plots/feature_importance.png"] = feature_importance_plot(importance)
    return figs
