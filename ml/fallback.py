"""Reliability fallback when too few failures exist to train a classifier.

Constant-hazard (exponential) model per machine: ``p_failure_72h = 1 - exp(-72 / MTBF)`` and the
hours-to-failure quantiles of the exponential, ``-MTBF * ln(1 - q)``. Rates are shrunk towards the pooled
rate with one pseudo-failure (a gamma prior), so a machine with no failure yet gets a finite, cautious
MTBF instead of infinity, and a plant with no failure at all gets ``(0 + 0.5) / exposure`` (Jeffreys).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import failure_events_from_labels, prepare

RISK_COLUMNS = [
    "machine_id",
    "as_of",
    "p_failure_72h",
    "hours_to_failure_p10",
    "hours_to_failure_p50",
    "hours_to_failure_p90",
    "failure_mode",
]


class ReliabilityFallback:
    """MTBF-based risk with the same ``predict_risk`` interface as the trained model."""

    kind = "reliability_fallback"

    def __init__(
        self,
        rate_per_h: dict[str, float],
        pooled_rate_per_h: float,
        horizon_h: float,
        cap_h: float,
        failure_mode: str | None,
        reason: str,
    ) -> None:
        self.rate_per_h = rate_per_h
        self.pooled_rate_per_h = pooled_rate_per_h
        self.horizon_h = horizon_h
        self.cap_h = cap_h
        self.failure_mode = failure_mode
        self.reason = reason

    def mtbf_h(self, machine_id: str) -> float:
        return 1.0 / self.rate_per_h.get(machine_id, self.pooled_rate_per_h)

    def predict_risk(self, frame: pd.DataFrame) -> pd.DataFrame:
        rows = prepare(frame)
        rate = rows["machine_id"].map(self.rate_per_h).fillna(self.pooled_rate_per_h).to_numpy()
        out = rows[["machine_id", "as_of"]].copy()
        out["p_failure_72h"] = 1.0 - np.exp(-rate * self.horizon_h)
        for q in (10, 50, 90):
            out[f"hours_to_failure_p{q}"] = np.minimum(-np.log(1 - q / 100) / rate, self.cap_h)
        out["failure_mode"] = self.failure_mode
        return out[RISK_COLUMNS].reset_index(drop=True)


def reliability_fallback(
    frame: pd.DataFrame,
    reason: str,
    *,
    horizon_h: float = 72.0,
    cap_h: float = 720.0,
    failures: pd.DataFrame | None = None,
) -> ReliabilityFallback:
    """Fit the fallback from the frame's exposure and the failures (from ``failures`` or the labels)."""
    rows = prepare(frame)
    events = failures if failures is not None else failure_events_from_labels(rows)
    # One row is one machine-hour of exposure (repair rows are already dropped by prepare()).
    exposure = rows.groupby("machine_id").size().astype(float)
    counts = events.groupby("machine_id").size().reindex(exposure.index, fill_value=0)
    total_exposure = max(float(exposure.sum()), 1.0)
    pooled = (float(counts.sum()) + 0.5) / total_exposure
    # Gamma prior worth one failure at the pooled rate: (n + 1) / (T + 1 / pooled).
    rate = (counts + 1.0) / (exposure + 1.0 / pooled)
    mode = None
    if "failure_mode" in events.columns and events["failure_mode"].notna().any():
        mode = str(events["failure_mode"].dropna().mode().iloc[0])
    return ReliabilityFallback(
        rate_per_h={str(k): float(v) for k, v in rate.items()},
        pooled_rate_per_h=pooled,
        horizon_h=horizon_h,
        cap_h=cap_h,
        failure_mode=mode,
        reason=reason,
    )
