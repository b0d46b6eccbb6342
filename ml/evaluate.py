"""Evaluate a failure-risk model on the held-out period and decide promotion.

Metric definitions are in ``ml.metrics``. Failures evaluated are those whose whole 72 h window lies in the
test period (``failure_start >= t_split + horizon``). Failures known to have had no precursor
(``had_precursor == False`` in the events frame, or a failure mode the plant model declares with
``precursor: false``) are expected misses: ``event_recall`` and the floors use the others;
``event_recall_all`` counts every failure.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import average_precision_score, brier_score_loss
from threadpoolctl import threadpool_limits

from ml.config import FailureModelConfig, PromotionFloors
from ml.features import failure_events_from_labels, label_known, mark_precursors, prepare
from ml.metrics import (
    alarm_episodes,
    detect_events,
    event_window_scores,
    expected_calibration_error,
    machine_weeks,
)


@dataclass
class Evaluation:
    metrics: dict[str, float]
    events: pd.DataFrame  # one row per evaluated failure: detected, lead_time_h, had_precursor
    per_mode: pd.DataFrame  # failure_mode, n_failures, event_recall, mean_lead_time_h
    scored: pd.DataFrame  # machine_id, as_of, p, y (label-known test rows)
    episodes: pd.DataFrame


def _nan_to_none(value: float) -> float:
    return float(value) if value is not None and not math.isnan(value) else float("nan")


def score(
    model,
    test: pd.DataFrame,
    config: FailureModelConfig,
    events: pd.DataFrame | None = None,
    threshold: float | None = None,
    modes_without_precursor: Collection[str] = (),
) -> Evaluation:
    """Score ``model`` (anything with ``predict_risk``) on the held-out rows ``test``.

    ``modes_without_precursor``: failure modes that give no warning (the plant model's FMEA
    declaration); their failures are reported apart, as expected misses, unless ``events`` already
    says per failure whether it had a precursor.
    """
    rows = prepare(test)
    if rows.empty:
        raise ValueError("the held-out period has no scorable rows")
    risk = model.predict_risk(rows)
    rows = rows.merge(risk[["machine_id", "as_of", "p_failure_72h"]], on=["machine_id", "as_of"])
    rows = rows[label_known(rows, config)]
    scored = pd.DataFrame(
        {
            "machine_id": rows["machine_id"].to_numpy(),
            "as_of": rows["as_of"].to_numpy(),
            "p": rows["p_failure_72h"].to_numpy(dtype=float),
            "y": rows[config.label_column].fillna(0).astype(int).to_numpy(),
        }
    )
    thr = threshold if threshold is not None else float(getattr(model, "threshold_", 0.5))

    first, last = scored["as_of"].min(), scored["as_of"].max()
    ev = events if events is not None else failure_events_from_labels(prepare(test))
    ev = ev.assign(failure_start=pd.to_datetime(ev["failure_start"]))
    ev = ev[
        (ev["failure_start"] >= first + pd.Timedelta(hours=config.horizon_h))
        & (ev["failure_start"] <= last + pd.Timedelta(hours=1))
        & ev["machine_id"].isin(scored["machine_id"].unique())
    ]
    ev = mark_precursors(ev, modes_without_precursor)
    detected = detect_events(event_window_scores(scored, ev, config.horizon_h), thr)
    expected_miss = detected["had_precursor"].eq(False).fillna(False).astype(bool)
    detectable = detected[~expected_miss]
    episodes = alarm_episodes(scored, thr, config.episode_gap_h, config.horizon_h)
    alarm = scored["p"] >= thr
    weeks = machine_weeks(scored)
    n_false = int((~episodes["true"].astype(bool)).sum()) if len(episodes) else 0
    y, p = scored["y"].to_numpy(), scored["p"].to_numpy()
    has_both = 0 < y.sum() < len(y)

    metrics = {
        "threshold": thr,
        "n_test_rows": float(len(scored)),
        "n_test_failures": float(len(detected)),
        "n_test_failures_no_precursor": float(expected_miss.sum()),
        "event_recall": _nan_to_none(detectable["detected"].mean()) if len(detectable) else np.nan,
        "event_recall_all": _nan_to_none(detected["detected"].mean()) if len(detected) else np.nan,
        "no_precursor_detected": float(detected.loc[expected_miss, "detected"].sum()),
        "mean_lead_time_h": _nan_to_none(detected["lead_time_h"].mean()),
        "median_lead_time_h": _nan_to_none(detected["lead_time_h"].median()),
        "row_precision": float(y[alarm].mean()) if alarm.any() else np.nan,
        "episode_precision": float(episodes["true"].mean()) if len(episodes) else np.nan,
        "n_alarm_episodes": float(len(episodes)),
        "false_alarms_per_machine_week": n_false / weeks if weeks else np.nan,
        "pr_auc": float(average_precision_score(y, p)) if has_both else np.nan,
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "base_rate": float(y.mean()),
    }
    per_mode = _per_mode(detected)
    for _, row in per_mode.iterrows():
        metrics[f"event_recall__{row['failure_mode']}"] = row["event_recall"]
    return Evaluation(metrics, detected, per_mode, scored, episodes)


def _per_mode(detected: pd.DataFrame) -> pd.DataFrame:
    cols = ["failure_mode", "n_failures", "event_recall", "mean_lead_time_h"]
    if detected.empty or "failure_mode" not in detected.columns:
        return pd.DataFrame(columns=cols)
    g = detected.assign(failure_mode=detected["failure_mode"].fillna("unknown")).groupby(
        "failure_mode"
    )
    out = pd.DataFrame(
        {
            "n_failures": g.size(),
            "event_recall": g["detected"].mean(),
            "mean_lead_time_h": g["lead_time_h"].mean(),
        }
    )
    return out.reset_index()[cols]


def feature_importance(
    model, test: pd.DataFrame, config: FailureModelConfig, max_rows: int = 4000, seed: int = 0
) -> pd.DataFrame:
    """Permutation importance (drop in average precision) of each feature on held-out rows."""
    rows = prepare(test)
    rows = rows[label_known(rows, config)]
    if len(rows) > max_rows:
        rows = rows.sample(max_rows, random_state=seed).sort_values(["machine_id", "as_of"])
    X = rows[model.feature_names_].to_numpy(dtype=float)
    y = rows[config.label_column].fillna(0).astype(int).to_numpy()
    with threadpool_limits(limits=1, user_api="openmp"):
        result = permutation_importance(
            model.classifier_, X, y, scoring="average_precision", n_repeats=3, random_state=seed
        )
    return (
        pd.DataFrame(
            {
                "feature": model.feature_names_,
                "importance": result.importances_mean,
                "std": result.importances_std,
            }
        )
        .sort_values("importance", ascending=False)
        .reset_index(drop=True)
    )


def should_promote(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    floors: PromotionFloors,
) -> tuple[bool, list[str]]:
    """Gate: the challenger clears the floors and is not worse than the champion (same held-out data).

    Returns (promote, reasons): the failed conditions when refused, the checks passed otherwise.
    """
    failed, passed = [], []

    def check(ok: bool, text: str) -> None:
        (passed if ok else failed).append(text)

    def val(metrics: Mapping[str, float], name: str) -> float:
        v = metrics.get(name)
        return float("nan") if v is None else float(v)

    n = val(challenger, "n_test_failures")
    check(n >= floors.min_test_failures, f"test failures {n:g} >= {floors.min_test_failures}")
    recall = val(challenger, "event_recall")
    check(
        recall >= floors.min_event_recall, f"event_recall {recall:.3f} >= {floors.min_event_recall}"
    )
    prec = val(challenger, floors.precision_metric)
    check(
        prec >= floors.min_precision,
        f"{floors.precision_metric} {prec:.3f} >= {floors.min_precision}",
    )
    ece = val(challenger, "ece")
    if floors.max_ece is not None:
        check(ece <= floors.max_ece, f"ece {ece:.3f} <= {floors.max_ece}")
    if champion is None:
        passed.append("no champion yet")
    else:
        for name in floors.compare_metrics:
            c, b = val(challenger, name), val(champion, name)
            if math.isnan(b):
                passed.append(f"champion has no {name}")
                continue
            check(
                c >= b - floors.tolerance,
                f"{name} {c:.3f} >= champion {b:.3f} - tolerance {floors.tolerance}",
            )
    # NaN comparisons are False above, so a missing metric refuses promotion rather than passing.
    return (not failed, failed if failed else passed)
