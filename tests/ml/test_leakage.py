import numpy as np
import pandas as pd
import pytest

from ml.leakage import check_no_future_leakage, check_truncation_invariance


def test_causal_synthetic_features_pass(synthetic, config) -> None:
    report = check_no_future_leakage(synthetic[0], config)
    assert report.passed, report.leaky
    assert report.n_failures_checked > 50


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("label_itself", lambda f, g, rng: f["fails_within_72h"].astype(float)),
        ("label_3h_ahead", lambda f, g, rng: g.shift(-3).fillna(0)),
        ("label_4h_late", lambda f, g, rng: g.shift(4).fillna(0)),
        ("noisy_label", lambda f, g, rng: f["fails_within_72h"] + rng.normal(0, 0.3, len(f))),
        ("signal_plus_label", lambda f, g, rng: f["a_mean_12h"] + f["fails_within_72h"]),
        (
            "log_hours_to_failure",
            lambda f, g, rng: np.log1p(f["hours_to_next_failure"].fillna(1e4)),
        ),
    ],
)
def test_a_feature_computed_from_the_future_is_caught(synthetic, config, name, make) -> None:
    frame = synthetic[0].copy()
    rng = np.random.default_rng(3)
    frame[name] = make(frame, frame.groupby("machine_id")["fails_within_72h"], rng)
    report = check_no_future_leakage(frame, config)
    assert set(report.leaky) == {name}, report.leaky


def test_truncation_detects_centred_windows_and_passes_trailing_ones(frame_factory) -> None:
    cutoff_h = 24 * 30
    cutoff = pd.Timestamp("2026-01-05") + pd.Timedelta(hours=cutoff_h - 1)
    cols = ["a_mean_12h", "b_mean_12h", "a_slope_24h"]
    kw = {"n_machines": 3, "days": 45}
    full, _ = frame_factory(**kw)
    cut, _ = frame_factory(raw_until_h=cutoff_h, **kw)
    assert check_truncation_invariance(full, cut, cutoff, cols) == {}

    full_c, _ = frame_factory(centered=True, **kw)
    cut_c, _ = frame_factory(centered=True, raw_until_h=cutoff_h, **kw)
    diffs = check_truncation_invariance(full_c, cut_c, cutoff, cols)
    # A centred 12 h window reads 5-6 h past as_of: the last rows before the cutoff change.
    assert set(diffs) == set(cols)
    assert all(n >= 3 * 5 for n in diffs.values())
