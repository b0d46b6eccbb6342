import numpy as np
import pandas as pd
import pytest

from ml import train
from ml.config import FailureModelConfig, ModelParams, ThresholdPolicy
from ml.fallback import RISK_COLUMNS, ReliabilityFallback
from ml.metrics import expected_calibration_error


def test_trained_model_scores_every_usable_row_with_ordered_quantiles(trained) -> None:
    assert not trained.is_fallback, trained.notes
    risk = trained.model.predict_risk(trained.test)
    assert list(risk.columns) == RISK_COLUMNS
    assert len(risk) == len(trained.test)
    assert risk["p_failure_72h"].between(0, 1).all()
    q = risk[["hours_to_failure_p10", "hours_to_failure_p50", "hours_to_failure_p90"]]
    assert (q.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert q.max().max() <= 720
    assert set(risk["failure_mode"]) <= {"wear", "overheat"}


def test_hours_to_failure_median_tracks_the_truth_near_failures(trained) -> None:
    risk = trained.model.predict_risk(trained.test)
    truth = trained.test["hours_to_next_failure"].to_numpy()
    near = truth <= 72  # the rows where a planner acts on the estimate
    err = np.abs(risk["hours_to_failure_p50"].to_numpy()[near] - truth[near])
    assert np.median(err) < 24
    inside = (risk["hours_to_failure_p10"].to_numpy()[near] <= truth[near]) & (
        truth[near] <= risk["hours_to_failure_p90"].to_numpy()[near]
    )
    # Nominal 80 %, conformalized on the validation slice; before that it was 28 % (see ml.train).
    assert inside.mean() > 0.6


def test_failure_mode_is_mostly_right_before_failures(trained) -> None:
    risk = trained.model.predict_risk(trained.test)
    near = (trained.test["hours_to_next_failure"] <= 48).to_numpy()
    truth = trained.test["next_failure_mode"].to_numpy()[near]
    assert (risk["failure_mode"].to_numpy()[near] == truth).mean() > 0.7


def test_calibrated_probabilities_match_known_probabilities() -> None:
    # iid rows with a known p(x); the booster alone is over-confident, isotonic on later rows fixes it.
    rng = np.random.default_rng(0)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = rng.normal(size=(n, 3))
        p = 1 / (1 + np.exp(-(2.0 * X[:, 0] - X[:, 1] - 2.0)))
        return X, (rng.random(n) < p).astype(int), p

    (X_fit, y_fit, _), (X_cal, y_cal, _), (X_new, y_new, p_new) = (
        sample(6000),
        sample(6000),
        sample(8000),
    )
    clf, cal = train.fit_calibrated_classifier(X_fit, y_fit, X_cal, y_cal, ModelParams())
    p_hat = np.clip(cal.predict(clf.predict_proba(X_new)[:, 1]), 0, 1)
    assert expected_calibration_error(y_new, p_hat) < 0.03
    assert np.mean(np.abs(p_hat - p_new)) < 0.06
    # Sanity of the metric itself: the true probabilities are calibrated, distorted ones are not.
    assert expected_calibration_error(y_new, p_new) < 0.02
    assert expected_calibration_error(y_new, np.sqrt(p_new)) > 0.1


def test_threshold_is_chosen_without_looking_at_the_test_period(synthetic, config, trained) -> None:
    frame = synthetic[0].copy()
    in_test = frame["as_of"] >= trained.split.t_split
    frame.loc[in_test, "fails_within_72h"] = 1 - frame.loc[in_test, "fails_within_72h"]
    again = train.fit(config, frame)
    assert again.model.threshold_ == trained.model.threshold_
    assert trained.validation_curve is not None
    assert "validation" in trained.model.threshold_note_


def test_fallback_when_no_failure_was_ever_seen(synthetic, config) -> None:
    frame = synthetic[0].copy()
    frame["fails_within_72h"] = 0
    frame["hours_to_next_failure"] = np.nan
    frame["next_failure_mode"] = None
    outcome = train.fit(config, frame)
    assert isinstance(outcome.model, ReliabilityFallback)
    assert "0 failure(s)" in outcome.model.reason
    risk = outcome.model.predict_risk(outcome.test)
    assert list(risk.columns) == RISK_COLUMNS
    # (0 + 0.5) failures over ~21,000 machine-hours: MTBF ~42,000 h, p(72 h) ~0.2 %.
    assert risk["p_failure_72h"].between(1e-4, 0.01).all()
    assert risk["failure_mode"].isna().all()


def test_fallback_with_too_few_failures_uses_the_life_distribution_at_the_machines_age(
    frame_factory,
) -> None:
    # The fallback is a Weibull in the age since renewal (ml/fallback.py, issue 11 item 4): the risk
    # of a row is the conditional probability 1 - S(age + 72) / S(age), not a constant hazard.
    frame, _ = frame_factory(n_machines=2, days=40, seed=11)
    config = FailureModelConfig(min_failures=50)
    outcome = train.fit(config, frame)
    fb = outcome.model
    assert isinstance(fb, ReliabilityFallback)
    assert "fewer than the 50" in fb.reason
    risk = fb.predict_risk(outcome.test)
    life = fb.life_of(risk["machine_id"].iloc[0])
    age = fb.age_context(outcome.test.iloc[[0]])["age_h"].iloc[0]

    def survival(t: float) -> float:
        return float(np.exp(-((t / life.scale_h) ** life.shape)))

    assert risk["p_failure_72h"].iloc[0] == pytest.approx(1 - survival(age + 72) / survival(age))
    median_residual = (
        life.scale_h * ((age / life.scale_h) ** life.shape + np.log(2)) ** (1 / life.shape) - age
    )
    assert risk["hours_to_failure_p50"].iloc[0] == pytest.approx(min(median_residual, 720))
    assert fb.failure_mode in {"wear", "overheat"}


def test_a_few_days_of_history_fall_back_instead_of_failing(frame_factory) -> None:
    # Regression: a plant with four days of data cannot hold a 72 h gap plus a test period; the
    # twin must still score its machines (with the MTBF fallback), not crash the run.
    frame, _ = frame_factory(n_machines=2, days=4, seed=3)
    outcome = train.fit(FailureModelConfig(), frame)
    assert isinstance(outcome.model, ReliabilityFallback)
    assert "too short" in outcome.model.reason
    risk = outcome.model.predict_risk(frame)
    assert risk["p_failure_72h"].between(0, 1).all()


def test_missing_feature_columns_are_named(trained) -> None:
    with pytest.raises(ValueError, match="a_mean_12h"):
        trained.model.predict_risk(trained.test.drop(columns=["a_mean_12h"]))


def test_machine_kind_does_not_matter_only_numeric_columns(trained, config) -> None:
    # Renaming machines and adding a text column changes nothing: ml/ knows no machine types.
    frame = trained.test.assign(
        machine_id=lambda f: "engine_" + f["machine_id"], site_id="S", line_id="L", note="x"
    )
    risk = trained.model.predict_risk(frame)
    base = trained.model.predict_risk(trained.test)
    assert np.allclose(risk["p_failure_72h"], base["p_failure_72h"])
    assert isinstance(risk["as_of"].iloc[0], pd.Timestamp)


def _lives(lengths: list[int]) -> pd.DataFrame:
    """One machine per life: hourly rows from its start to its failure at hour ``length``."""
    frames = []
    for i, length in enumerate(lengths):
        hours = np.arange(length)
        frames.append(
            pd.DataFrame(
                {
                    "machine_id": f"E{i:02d}",
                    "as_of": pd.Timestamp("2026-01-01") + pd.to_timedelta(hours, unit="h"),
                    "hours_to_next_failure": (length - hours).astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_the_hours_to_failure_cap_is_the_shortest_observed_life() -> None:
    lives = list(range(390, 190, -10))  # 20 lives, 390 .. 200 h
    assert train.cap_from_lives(_lives(lives), horizon_h=72, max_cap_h=720) == 200
    # never below two horizons (the alarm window must fit), never above the configured cap
    assert train.cap_from_lives(_lives([50] * 10), horizon_h=72, max_cap_h=720) == 144
    assert train.cap_from_lives(_lives([2000] * 10), horizon_h=72, max_cap_h=720) == 720
    # too few failures to choose from: the configured cap
    assert train.cap_from_lives(_lives([200] * 4), horizon_h=72, max_cap_h=720) == 720


def test_the_trained_model_predicts_within_its_cap(trained, synthetic) -> None:
    model = trained.model
    assert 2 * model.horizon_h <= model.cap_h <= 720
    risk = model.predict_risk(synthetic[0].tail(2000))
    assert (risk["hours_to_failure_p90"] <= model.cap_h).all()


def test_among_thresholds_with_the_same_recall_the_most_sensitive_is_chosen() -> None:
    # The shape of a validation curve over isotonic-calibrated scores (few distinct values), as on
    # the demo plant with seed 2: recall 0.77 from 0.68 up to 1.0, precision rising to 1.0.
    curve = pd.DataFrame(
        {
            "threshold": [0.47, 0.68, 0.94, 1.0],
            "event_recall": [0.86, 0.77, 0.77, 0.77],
            "episode_precision": [0.62, 0.86, 0.90, 1.0],
        }
    )
    threshold, note = train.choose_threshold(curve, ThresholdPolicy(min_precision=0.65))
    assert threshold == 0.68  # not 1.0: equal recall, and 1.0 only warns on certainties
    assert "recall (0.77)" in note
    assert "precision 0.86" in note
    # below the precision target the highest recall still wins
    low, _ = train.choose_threshold(curve, ThresholdPolicy(min_precision=0.6))
    assert low == 0.47


def test_the_threshold_is_placed_on_earlier_slices_too_without_changing_the_model(
    synthetic, trained
) -> None:
    # Rolling origin (ml.train._earlier_folds): the slices before the validation slice, each scored
    # by a booster fitted before it, add failures to the threshold's curve; the model that scores
    # the plant is still the one fitted before the last slice.
    three = train.fit(FailureModelConfig(split={"threshold_folds": 3}), synthetic[0])
    assert trained.model.threshold_folds_ == 1  # the default
    assert three.model.threshold_folds_ == 3
    assert three.model.threshold_failures_ >= 2 * trained.model.threshold_failures_
    assert "on 3 validation slice(s)" in three.notes[0]
    assert np.array_equal(
        three.model.predict_proba_72h(three.test), trained.model.predict_proba_72h(trained.test)
    )
    # Those slices lie in the training period: the test labels still cannot move the threshold.
    frame = synthetic[0].copy()
    in_test = frame["as_of"] >= three.split.t_split
    frame.loc[in_test, "fails_within_72h"] = 1 - frame.loc[in_test, "fails_within_72h"]
    flipped = train.fit(FailureModelConfig(split={"threshold_folds": 3}), frame)
    assert flipped.model.threshold_ == three.model.threshold_
    # Without enough failures before a slice there is no fold, not a model fitted on nothing.
    few = train.fit(FailureModelConfig(split={"threshold_folds": 50}), synthetic[0])
    assert few.model.threshold_folds_ < 50
