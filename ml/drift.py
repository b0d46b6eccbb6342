"""Calibration drift of the champion on recent data: when it stops telling the truth, retrain."""

from __future__ import annotations

import pandas as pd

from ml.config import FailureModelConfig
from ml.features import label_known, prepare
from ml.metrics import expected_calibration_error

RECENT_DAYS = 14
MIN_ROWS = 200  # fewer labelled rows than this give an ECE too noisy to act on


def recent_calibration(frame: pd.DataFrame, model, config: FailureModelConfig) -> float | None:
    """ECE of the model on the last RECENT_DAYS with known labels, or None with too few rows."""
    rows = prepare(frame)
    rows = rows[label_known(rows, config)]
    if rows.empty:
        return None
    recent = rows[rows["as_of"] >= rows["as_of"].max() - pd.Timedelta(days=RECENT_DAYS)]
    if len(recent) < MIN_ROWS:
        return None
    risk = model.predict_risk(recent)[["machine_id", "as_of", "p_failure_72h"]]
    scored = recent.merge(risk, on=["machine_id", "as_of"], how="inner")
    y = scored[config.label_column].fillna(0).astype(int).to_numpy()
    return float(expected_calibration_error(y, scored["p_failure_72h"].to_numpy()))
