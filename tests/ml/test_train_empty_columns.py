"""A feature column without any value (a signal or source the plant lacks) is left out, not fatal."""

from __future__ import annotations

import numpy as np

from ml import train


def test_an_all_null_feature_column_is_left_out_and_noted(synthetic, config) -> None:
    frame, _ = synthetic
    frame = frame.assign(absent_signal_mean_24h=np.nan)
    outcome = train.fit(config, frame)
    assert not outcome.is_fallback
    assert "absent_signal_mean_24h" not in outcome.model.feature_names_
    assert any("absent_signal_mean_24h" in note for note in outcome.notes)
    assert outcome.model.predict_risk(outcome.test)["p_failure_72h"].notna().all()
