"""Train the failure-risk model: calibrated 72 h classifier, hours-to-failure quantiles, failure mode.

* Classifier: HistGradientBoostingClassifier fitted on the early part of the training period, then an
  isotonic calibration and the alarm threshold fitted on a later validation slice (after a gap of at
  least the horizon). Isotonic keeps the ranking (so PR-AUC is the booster's) and maps scores to observed
  frequencies; fitting it on a later slice, not on the fit rows, avoids the booster's in-sample optimism.
* Hours to failure: three HistGradientBoostingRegressors with quantile loss (0.1, 0.5, 0.9) on the
  target ``min(hours_to_next_failure, cap)``. Right-censored rows (no failure seen) whose observation
  horizon reaches the cap are included with target ``cap``: their capped time is known exactly, which
  keeps the regressors from learning only from machines that failed. Shorter-censored rows are dropped.
  The regressors are fitted on the fit part; the p10-p90 interval is then widened by conformalized
  quantile regression on the validation slice (Romano et al. 2019), separately for rows whose p50 is
  under a week and the rest, because boosters fitted in-sample gave intervals that covered only 28 % of
  the truth in the last 72 h before failures on the synthetic plant (nominal 80 %). Outputs are clipped
  to [0, cap] and sorted so that p10 <= p50 <= p90.
* The cap is chosen from the training history (``cap_from_lives``, unless ``params.cap_from_data`` is
  off): the shortest run length observed before a training failure, at least 2 x horizon and at most
  ``params.hours_to_failure_cap_h``. Capped there, every life runs through the whole target range
  [0, cap] and every machine fresh from a repair has the target ``cap`` exactly; with a longer cap, the
  healthy early rows of short and long lives look alike but carry different targets, which the
  regressors can only guess from the fleet's spread of lives. (On C-MAPSS FD001 the rule lands on its
  floor, 144 h: RMSE 15.5 against 17.1 for a cap at the 10th percentile of lives (157 h) and 18.6 for
  the former fixed 720 h; the literature hand-sets 125.)
* Failure mode: HistGradientBoostingClassifier on rows with a failure within the cap, target the mode of
  that next failure; a single known mode is returned as a constant.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from ml.config import FailureModelConfig, ModelParams, ThresholdPolicy
from ml.fallback import RISK_COLUMNS, ReliabilityFallback, reliability_fallback
from ml.features import (
    count_failures,
    failure_events_from_labels,
    feature_columns,
    label_known,
    mark_precursors,
)
from ml.features import prepare as prepare_frame
from ml.metrics import event_window_scores, threshold_curve
from ml.split import TimeSplit, apply_split, split_point

QUANTILES = (0.1, 0.5, 0.9)
# Conformal groups: rows whose predicted p50 is under a week (where planners act) and the rest.
CONFORMAL_SPLIT_H = 168.0
# Quantile regressors are fitted on at most this many rows: 60k rows keep a fit under ~5 s on one core.
MAX_REGRESSION_ROWS = 60_000


class FittedFailureModel(BaseEstimator):
    """The trained failure-risk model. ``predict(frame)`` and ``predict_risk(frame)`` return the risk frame.

    Attributes are plain numpy / sklearn objects so the whole model serialises with skops.
    """

    kind = "trained"

    def __init__(self, horizon_h: float = 72.0, cap_h: float = 720.0) -> None:
        self.horizon_h = horizon_h
        self.cap_h = cap_h

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.feature_names_ if c not in frame.columns]
        if missing:
            raise ValueError(f"the frame lacks feature columns the model was trained on: {missing}")
        return frame[self.feature_names_].to_numpy(dtype=float)

    def predict_proba_72h(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that a failure starts within the horizon, per row."""
        return _calibrated(self.classifier_, self.calibrator_, self._matrix(frame))

    def predict_risk(self, frame: pd.DataFrame) -> pd.DataFrame:
        # One OpenMP thread: scoring is small and oversubscribed threads spin on a busy machine.
        with threadpool_limits(limits=1, user_api="openmp"):
            return self._predict_risk(frame)

    def _predict_risk(self, frame: pd.DataFrame) -> pd.DataFrame:
        rows = prepare_frame(frame)
        X = self._matrix(rows)
        out = rows[["machine_id", "as_of"]].copy()
        out["p_failure_72h"] = self.predict_proba_72h(rows)
        if self.quantile_models_:
            q = _conformal(self.quantile_models_, X, self.interval_widen_h_)
            q = np.sort(np.clip(q, 0.0, self.cap_h), axis=1)
        else:
            q = np.full((len(rows), 3), np.nan)
        for i, name in enumerate(("p10", "p50", "p90")):
            out[f"hours_to_failure_{name}"] = q[:, i]
        if self.mode_classifier_ is not None:
            codes = self.mode_classifier_.predict(X).astype(int)
            out["failure_mode"] = np.asarray(self.failure_modes_, dtype=object)[codes]
        else:
            out["failure_mode"] = self.failure_modes_[0] if self.failure_modes_ else None
        return out[RISK_COLUMNS].reset_index(drop=True)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """MLflow pyfunc entry point: the risk frame."""
        return self.predict_risk(frame)


@dataclass
class TrainingOutcome:
    """What ``fit`` returns: the model (or the fallback), the split and the held-out rows."""

    model: FittedFailureModel | ReliabilityFallback
    split: TimeSplit | None
    train: pd.DataFrame
    test: pd.DataFrame
    validation_curve: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_fallback(self) -> bool:
        return isinstance(self.model, ReliabilityFallback)


def _booster_kwargs(params: ModelParams) -> dict:
    return {
        "max_iter": params.max_iter,
        "learning_rate": params.learning_rate,
        "max_leaf_nodes": params.max_leaf_nodes,
        "min_samples_leaf": params.min_samples_leaf,
        "l2_regularization": params.l2_regularization,
        "random_state": params.random_state,
        "early_stopping": False,
    }


def fit_calibrated_classifier(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_cal: np.ndarray,
    y_cal: np.ndarray,
    params: ModelParams,
) -> tuple[HistGradientBoostingClassifier, IsotonicRegression | None]:
    """Booster on the fit rows, isotonic calibration on the (later) calibration rows."""
    with threadpool_limits(limits=params.n_threads, user_api="openmp"):
        clf = HistGradientBoostingClassifier(**_booster_kwargs(params)).fit(X_fit, y_fit)
    if len(np.unique(y_cal)) < 2:
        return clf, None  # isotonic needs both classes; raw scores are reported as they are
    raw = clf.predict_proba(X_cal)[:, 1]
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y_cal)
    return clf, calibrator


def _calibrated(
    clf: HistGradientBoostingClassifier, calibrator: IsotonicRegression | None, X: np.ndarray
) -> np.ndarray:
    """The booster's score through its calibration (as it is when the calibration slice had one class)."""
    raw = clf.predict_proba(X)[:, 1]
    return raw if calibrator is None else np.clip(calibrator.predict(raw), 0.0, 1.0)


def _fit_before_slice(
    fit_rows: pd.DataFrame,
    slice_rows: pd.DataFrame,
    cols: list[str],
    config: FailureModelConfig,
    modes_without_precursor: Collection[str],
) -> tuple[HistGradientBoostingClassifier, IsotonicRegression | None]:
    """The booster on the rows it learns from (``_learning_rows``), calibrated on the later slice."""
    y = config.label_column
    learn = _learning_rows(fit_rows, y, modes_without_precursor)
    return fit_calibrated_classifier(
        learn[cols].to_numpy(dtype=float),
        learn[y].fillna(0).astype(int).to_numpy(),
        slice_rows[cols].to_numpy(dtype=float),
        slice_rows[y].fillna(0).astype(int).to_numpy(),
        config.params,
    )


def choose_threshold(curve: pd.DataFrame, policy: ThresholdPolicy) -> tuple[float, str]:
    """Pick the alarm threshold from a validation threshold curve; the note says why."""
    c = curve.fillna({"episode_precision": 0.0})
    r, p = c["event_recall"], c["episode_precision"]
    b2 = policy.beta**2
    fbeta = ((1 + b2) * p * r / (b2 * p + r)).fillna(0.0)
    if policy.kind == "max_recall_at_precision":
        ok = c[(p >= policy.min_precision) & (r > 0)]
        if not ok.empty:
            # Among thresholds with the same validation recall, the lowest: a higher one buys
            # precision already above the target and loses warnings on data it has not seen.
            best = ok.sort_values(["event_recall", "threshold"], ascending=[False, True]).iloc[0]
            return float(best["threshold"]), (
                f"highest validation event recall ({best['event_recall']:.2f}) with episode "
                f"precision {best['episode_precision']:.2f} >= {policy.min_precision}"
            )
    best = c.loc[fbeta.idxmax()]
    return float(best["threshold"]), (
        f"F{policy.beta:g} optimum on validation (recall {best['event_recall']:.2f}, episode "
        f"precision {best['episode_precision']:.2f}); no threshold reached precision "
        f"{policy.min_precision}"
        if policy.kind == "max_recall_at_precision"
        else f"F{policy.beta:g} optimum on validation"
    )


@dataclass
class _FoldScores:
    """One validation slice scored by a booster fitted before it: rows and failure windows."""

    scored: pd.DataFrame
    windows: pd.DataFrame
    n_warned: int


def _fold_scores(
    p: np.ndarray,
    val_rows: pd.DataFrame,
    config: FailureModelConfig,
    modes_without_precursor: Collection[str],
) -> _FoldScores:
    scored = val_rows[["machine_id", "as_of"]].assign(
        p=p, y=val_rows[config.label_column].fillna(0).astype(int).to_numpy()
    )
    events = mark_precursors(failure_events_from_labels(val_rows), modes_without_precursor)
    warned = events[events["had_precursor"].ne(False).fillna(True).astype(bool)]
    # A validation slice whose failures all came without warning still needs a threshold.
    windows = event_window_scores(scored, warned if len(warned) else events, config.horizon_h)
    return _FoldScores(scored, windows, int(windows["max_p"].notna().sum()))


def _earlier_folds(
    train: pd.DataFrame,
    val_split: TimeSplit,
    cols: list[str],
    config: FailureModelConfig,
    modes_without_precursor: Collection[str],
) -> list[_FoldScores]:
    """Rolling-origin folds before the validation slice, for the threshold only.

    Fold k validates on the k-th slice of the validation slice's length before it, with a booster
    and calibration fitted on the rows before that slice (minus the gap), exactly as the final
    model was fitted before its own slice. One ~10-day slice holds ~20 failures with a precursor
    (one failure = 0.05 of recall), too few to place a threshold that holds on the test period;
    the calibrated probabilities of the folds' models are comparable, so their curves pool.
    A fold without failures on either side is left out.
    """
    length = val_split.end - val_split.t_split
    known = train[label_known(train, config)]
    as_of = pd.to_datetime(known["as_of"])
    folds = []
    for k in range(1, config.split.threshold_folds):
        lo = val_split.t_split - k * length
        fit_end = lo - pd.Timedelta(hours=val_split.gap_h)
        if fit_end <= val_split.start:
            break
        fit_rows = known[as_of < fit_end]
        slice_rows = known[(as_of >= lo) & (as_of < lo + length)]
        if count_failures(fit_rows, config) < config.min_failures:
            break
        if count_failures(slice_rows, config) < 1:
            continue
        clf, calibrator = _fit_before_slice(
            fit_rows, slice_rows, cols, config, modes_without_precursor
        )
        p = _calibrated(clf, calibrator, slice_rows[cols].to_numpy(dtype=float))
        folds.append(_fold_scores(p, slice_rows, config, modes_without_precursor))
    return folds


def _pooled_curve(folds: list[_FoldScores], config: FailureModelConfig) -> pd.DataFrame:
    """The threshold curve over every fold's rows and failures at once.

    Machine ids are made unique per fold, so an alarm episode never joins rows two different
    models scored.
    """
    scored = pd.concat(
        [
            f.scored.assign(machine_id=f.scored["machine_id"].astype(str) + f"#{i}")
            for i, f in enumerate(folds)
        ],
        ignore_index=True,
    )
    windows = pd.concat([f.windows for f in folds], ignore_index=True)
    candidates = np.unique(
        np.quantile(scored["p"], np.linspace(0.0, 1.0, config.threshold.n_candidates))
    )
    return threshold_curve(
        scored, windows, candidates[candidates > 0], config.episode_gap_h, config.horizon_h
    )


def _learning_rows(
    fit_rows: pd.DataFrame, y: str, modes_without_precursor: Collection[str]
) -> pd.DataFrame:
    """The rows the booster learns from: not those positive only because a silent failure follows.

    Such rows look healthy by definition and only blur the warnings. The calibration rows keep
    every label, so the probability still counts those failures.
    """
    if not modes_without_precursor or "next_failure_mode" not in fit_rows.columns:
        return fit_rows
    silent = fit_rows["next_failure_mode"].isin(list(modes_without_precursor))
    return fit_rows[~(fit_rows[y].fillna(0).astype(bool) & silent)]


def _conformal(models: list, X: np.ndarray, widen_h: list[float]) -> np.ndarray:
    """Raw quantile predictions with the p10/p90 moved apart by the group's conformal margin."""
    q = np.column_stack([m.predict(X) for m in models])
    margin = np.where(q[:, 1] < CONFORMAL_SPLIT_H, widen_h[0], widen_h[1])
    q[:, 0] -= margin
    q[:, 2] += margin
    return q


def _quantile_target(rows: pd.DataFrame, cap_h: float) -> pd.Series:
    """min(hours to next failure, cap); cap for censored rows observed past the cap; else NaN."""
    if "hours_to_next_failure" not in rows.columns:
        return pd.Series(np.nan, index=rows.index)
    htf = rows["hours_to_next_failure"].astype(float)
    observed = rows.get("hours_observed_after", pd.Series(np.nan, index=rows.index)).astype(float)
    censored_past_cap = np.where(observed >= cap_h, cap_h, np.nan)
    return htf.clip(upper=cap_h).where(htf.notna(), censored_past_cap)


def _conformal_margins(
    models: list, val: pd.DataFrame, cols: list[str], cap_h: float, coverage: float = 0.8
) -> list[float]:
    """Per group, the finite-sample (1 - alpha) quantile of max(p10 - y, y - p90) on validation rows."""
    y = _quantile_target(val, cap_h)
    ok = y.notna().to_numpy()
    if not models or ok.sum() < 20:
        return [0.0, 0.0]
    q = _conformal(models, val[cols].to_numpy(dtype=float)[ok], [0.0, 0.0])
    score = np.maximum(q[:, 0] - y[ok], y[ok] - q[:, 2]).to_numpy()
    margins = []
    for group in (q[:, 1] < CONFORMAL_SPLIT_H, q[:, 1] >= CONFORMAL_SPLIT_H):
        s = score[group]
        if len(s) < 20:
            s = score  # too few rows in the group: use the pooled margin
        level = min(coverage * (1 + 1 / len(s)), 1.0)
        margins.append(max(float(np.quantile(s, level)), 0.0))
    return margins


def cap_from_lives(train: pd.DataFrame, horizon_h: float, max_cap_h: float) -> float:
    """The hours-to-failure cap from the training history (see the module docstring).

    A failure's observed run length is the largest ``hours_to_next_failure`` among the rows that
    point at it: the time from the machine's previous repair (or its first row) to the failure.
    With fewer than 5 failures there is nothing to choose from: ``max_cap_h``.
    """
    if "hours_to_next_failure" not in train.columns:
        return max_cap_h
    rows = train[train["hours_to_next_failure"].notna()]
    start = pd.to_datetime(rows["as_of"]) + pd.to_timedelta(
        rows["hours_to_next_failure"].astype(float), unit="h"
    )
    runs = (
        rows["hours_to_next_failure"]
        .astype(float)
        .groupby([rows["machine_id"].to_numpy(), start.dt.round("min").to_numpy()])
        .max()
    )
    if len(runs) < 5:
        return max_cap_h
    return float(min(max(runs.min(), 2 * horizon_h), max_cap_h))


def _fit_quantiles(train: pd.DataFrame, cols: list[str], params: ModelParams, cap_h: float) -> list:
    if "hours_to_next_failure" not in train.columns:
        return []
    target = _quantile_target(train, cap_h)
    rows = train[target.notna()]
    target = target[target.notna()]
    if len(rows) < 50:
        return []
    if len(rows) > MAX_REGRESSION_ROWS:
        keep = np.random.default_rng(params.random_state).choice(
            len(rows), MAX_REGRESSION_ROWS, replace=False
        )
        rows, target = rows.iloc[np.sort(keep)], target.iloc[np.sort(keep)]
    X = rows[cols].to_numpy(dtype=float)
    kwargs = _booster_kwargs(params) | {"max_iter": max(params.max_iter // 2, 1)}
    return [
        HistGradientBoostingRegressor(loss="quantile", quantile=q, **kwargs).fit(X, target)
        for q in QUANTILES
    ]


def _fit_mode(train: pd.DataFrame, cols: list[str], params: ModelParams):
    if "next_failure_mode" not in train.columns or "hours_to_next_failure" not in train.columns:
        return None, []
    near = train["hours_to_next_failure"].astype(float) <= params.hours_to_failure_cap_h
    rows = train[near & train["next_failure_mode"].notna()]
    modes = sorted(rows["next_failure_mode"].astype(str).unique().tolist())
    if len(modes) < 2:
        return None, modes
    codes = rows["next_failure_mode"].astype(str).map({m: i for i, m in enumerate(modes)})
    clf = HistGradientBoostingClassifier(**_booster_kwargs(params))
    return clf.fit(rows[cols].to_numpy(dtype=float), codes.to_numpy()), modes


def fit(
    config: FailureModelConfig,
    frame: pd.DataFrame,
    *,
    modes_without_precursor: Collection[str] = (),
) -> TrainingOutcome:
    """Split by time, train on the training period, or fall back to MTBF when failures are too few.

    ``modes_without_precursor`` (the plant model's FMEA declaration) keeps failures that give no
    warning out of the choice of the alarm threshold: chasing them only buys false alarms. They stay
    in the labels, so the calibrated probability still counts them.
    """
    with threadpool_limits(limits=config.params.n_threads, user_api="openmp"):
        return _fit(config, frame, modes_without_precursor)


def _fit(
    config: FailureModelConfig, frame: pd.DataFrame, modes_without_precursor: Collection[str]
) -> TrainingOutcome:
    rows = prepare_frame(frame)
    cap = config.params.hours_to_failure_cap_h
    try:
        split = split_point(rows, config.split.test_fraction, config.gap_h)
    except ValueError as too_short:
        # A new plant has only days of history: no honest train/test split exists yet.
        reason = f"{too_short}: constant-hazard MTBF fallback"
        fb = reliability_fallback(rows, reason, horizon_h=config.horizon_h, cap_h=cap)
        return TrainingOutcome(
            model=fb, split=None, train=rows, test=rows.iloc[0:0], notes=[reason]
        )
    train, test = apply_split(rows, split)
    n_failures = count_failures(train, config)
    if n_failures < config.min_failures:
        reason = (
            f"{n_failures} failure(s) in the training period, fewer than the {config.min_failures} "
            "needed to train a classifier: constant-hazard MTBF fallback"
        )
        fb = reliability_fallback(train, reason, horizon_h=config.horizon_h, cap_h=cap)
        return TrainingOutcome(model=fb, split=split, train=train, test=test, notes=[reason])

    try:
        val_split = split_point(train, config.split.validation_fraction, config.gap_h)
    except ValueError as too_short:
        reason = f"training period {too_short}: constant-hazard MTBF fallback"
        fb = reliability_fallback(train, reason, horizon_h=config.horizon_h, cap_h=cap)
        return TrainingOutcome(model=fb, split=split, train=train, test=test, notes=[reason])
    fit_rows, val_rows = apply_split(train, val_split)
    fit_rows = fit_rows[label_known(fit_rows, config)]
    val_rows = val_rows[label_known(val_rows, config)]
    n_val = count_failures(val_rows, config)
    if n_val < config.min_validation_failures or count_failures(fit_rows, config) < 1:
        reason = (
            f"{n_val} failure(s) in the validation slice after {val_split.t_split}: cannot calibrate "
            "or choose an alarm threshold; constant-hazard MTBF fallback"
        )
        fb = reliability_fallback(train, reason, horizon_h=config.horizon_h, cap_h=cap)
        return TrainingOutcome(model=fb, split=split, train=train, test=test, notes=[reason])

    # A column with no value in the fit rows (a signal or source this plant lacks, e.g. no MES) carries
    # no information and makes the boosters' binning fail: leave it out, and say so.
    all_cols = feature_columns(rows, config)
    cols = [c for c in all_cols if fit_rows[c].notna().any()]
    empty = [c for c in all_cols if c not in cols]
    clf, calibrator = _fit_before_slice(fit_rows, val_rows, cols, config, modes_without_precursor)
    if config.params.cap_from_data:
        cap = cap_from_lives(train, config.horizon_h, cap)
    model = FittedFailureModel(horizon_h=config.horizon_h, cap_h=cap)
    model.feature_names_ = cols
    model.classifier_, model.calibrator_ = clf, calibrator

    folds = [
        _fold_scores(model.predict_proba_72h(val_rows), val_rows, config, modes_without_precursor)
    ]
    folds += _earlier_folds(train, val_split, cols, config, modes_without_precursor)
    curve = _pooled_curve(folds, config)
    model.threshold_, model.threshold_note_ = choose_threshold(curve, config.threshold)

    model.quantile_models_ = _fit_quantiles(fit_rows, cols, config.params, cap)
    model.interval_widen_h_ = _conformal_margins(model.quantile_models_, val_rows, cols, cap)
    model.mode_classifier_, model.failure_modes_ = _fit_mode(train, cols, config.params)
    model.training_window_ = {"start": str(split.start), "end": str(split.train_end)}
    model.n_training_failures_ = int(n_failures)
    model.threshold_folds_ = len(folds)
    model.threshold_failures_ = sum(f.n_warned for f in folds)
    notes = [
        f"{model.threshold_note_} (on {len(folds)} validation slice(s), "
        f"{model.threshold_failures_} failure(s) with a precursor)",
        f"hours to failure capped at {cap:.0f} h",
    ]
    if empty:
        notes.append(f"{len(empty)} feature column(s) empty in the fit rows, left out: {empty}")
    if calibrator is None:
        notes.append("validation slice had one class only: probabilities are uncalibrated")
    return TrainingOutcome(model, split, train, test, validation_curve=curve, notes=notes)
