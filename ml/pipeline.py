"""The retrain → evaluate → register → gate → score flow, as plain functions the Dagster assets call.

Nothing here knows what kind of machine it looks at: it works on the generic hourly feature frame
(``marts.fct_machine_hourly_features``) and the ``FailureModelRegistry``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd

from ml.config import FailureModelConfig
from ml.drivers import DRIVER_COLUMNS, risk_drivers
from ml.evaluate import Evaluation, feature_importance, score, should_promote
from ml.fallback import RISK_COLUMNS, ReliabilityFallback, reliability_fallback
from ml.features import prepare
from ml.plots import review_figures
from ml.registry import FailureModelRegistry
from ml.train import FittedFailureModel, TrainingOutcome, fit

# machine_failure_risk as published (DESIGN §3.4): the risk frame with its site and model, then the
# optional drivers (contract 1.1.0): why each machine is at risk
RISK_TABLE_COLUMNS = ["site_id", *RISK_COLUMNS, "model_version", *DRIVER_COLUMNS]


@dataclass
class RetrainResult:
    """What one retraining produced, and what the promotion gate said about it."""

    version: str | None  # registered challenger version; None when only the fallback was possible
    metrics: dict[str, float]
    gate_passed: bool
    gate_reasons: list[str]
    champion_version: str | None
    notes: list[str] = field(default_factory=list)
    data_window: dict[str, str] = field(default_factory=dict)

    @property
    def is_fallback(self) -> bool:
        return self.version is None


def _window(frame: pd.DataFrame, outcome) -> dict[str, str]:
    window = {
        "first_as_of": str(frame["as_of"].min()),
        "last_as_of": str(frame["as_of"].max()),
        "rows": str(len(frame)),
        "machines": str(frame["machine_id"].nunique()),
    }
    if outcome.split is not None:
        window.update({f"split.{k}": str(v) for k, v in outcome.split.as_dict().items()})
    return window


def _champion_metrics(
    registry: FailureModelRegistry,
    test: pd.DataFrame,
    config: FailureModelConfig,
    modes_without_precursor: Collection[str] = (),
) -> tuple[str | None, dict[str, float] | None]:
    """The current champion scored on the challenger's held-out rows: a like-for-like comparison."""
    version = registry.champion_version()
    if version is None:
        return None, None
    champion = registry.load_version(version)  # fails loudly if it cannot be loaded
    evaluation = score(champion, test, config, modes_without_precursor=modes_without_precursor)
    return version, evaluation.metrics


@dataclass
class ChallengerEvaluation:
    """A fitted challenger judged on its held-out period, before anything is registered."""

    outcome: TrainingOutcome
    evaluation: Evaluation | None  # None when only the fallback was possible
    gate_passed: bool
    gate_reasons: list[str]
    champion_version: str | None = None

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.evaluation.metrics) if self.evaluation is not None else {}


def evaluate_challenger(
    frame: pd.DataFrame,
    config: FailureModelConfig,
    *,
    modes_without_precursor: Collection[str] = (),
    registry: FailureModelRegistry | None = None,
) -> ChallengerEvaluation:
    """Split, fit, score the held-out period and apply the gate (against the champion, if any).

    ``modes_without_precursor``: failure modes the plant model declares as giving no warning; their
    held-out failures are reported apart, as expected misses (``ml.evaluate``). Without a registry the
    gate judges the floors only, as for a first model (what ``bench/failure_model.py`` measures).
    """
    outcome = fit(config, frame, modes_without_precursor=modes_without_precursor)
    champion_version = registry.champion_version() if registry is not None else None
    if outcome.is_fallback:
        return ChallengerEvaluation(outcome, None, False, list(outcome.notes), champion_version)
    evaluation = score(
        outcome.model, outcome.test, config, modes_without_precursor=modes_without_precursor
    )
    champion_metrics = None
    if registry is not None:
        champion_version, champion_metrics = _champion_metrics(
            registry, outcome.test, config, modes_without_precursor
        )
    passed, reasons = should_promote(evaluation.metrics, champion_metrics, config.floors)
    return ChallengerEvaluation(outcome, evaluation, passed, reasons, champion_version)


def retrain(
    frame: pd.DataFrame,
    registry: FailureModelRegistry,
    config: FailureModelConfig,
    *,
    dagster_run_id: str,
    modes_without_precursor: Collection[str] = (),
) -> RetrainResult:
    """Train on the features, evaluate on the held-out period, register the challenger, judge it."""
    judged = evaluate_challenger(
        frame, config, modes_without_precursor=modes_without_precursor, registry=registry
    )
    outcome = judged.outcome
    window = _window(frame, outcome)
    if outcome.is_fallback:
        return RetrainResult(
            None,
            {},
            False,
            list(outcome.notes),
            judged.champion_version,
            notes=list(outcome.notes),
            data_window=window,
        )
    model: FittedFailureModel = outcome.model
    evaluation: Evaluation = judged.evaluation
    passed, reasons = judged.gate_passed, judged.gate_reasons
    importance = feature_importance(model, outcome.test, config)
    version = registry.register_challenger(
        model,
        metrics=evaluation.metrics,
        params=config.model_dump(),
        data_window=window,
        dagster_run_id=dagster_run_id,
        input_frame=prepare(frame),
        figures=review_figures(evaluation, importance, config.horizon_h),
        tables={
            "per_failure_mode": evaluation.per_mode,
            "test_failures": evaluation.events,
            "feature_importance": importance,
        },
        gate=(passed, reasons),
    )
    registry.record_gate(version, passed)
    return RetrainResult(
        version,
        dict(evaluation.metrics),
        passed,
        reasons,
        judged.champion_version,
        notes=list(outcome.notes),
        data_window=window,
    )


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each machine's latest scorable row (not inside a repair): the state the planners act on."""
    rows = prepare(frame)
    return rows.sort_values("as_of").groupby("machine_id", as_index=False).tail(1)


def fallback_model(
    frame: pd.DataFrame,
    reason: str,
    config: FailureModelConfig,
    machine_types: dict[str, str] | None = None,
) -> ReliabilityFallback:
    """The age-based life-distribution fallback, per machine type where the history supports it."""
    return reliability_fallback(
        frame,
        reason,
        horizon_h=config.horizon_h,
        cap_h=config.params.hours_to_failure_cap_h,
        machine_types=machine_types,
    )


def score_latest(frame: pd.DataFrame, model, *, site_id: str, model_version: str) -> pd.DataFrame:
    """`machine_failure_risk` (DESIGN §3.4): one row per machine at its latest data time, and why."""
    latest = latest_rows(frame)
    risk = model.predict_risk(latest)
    risk.insert(0, "site_id", site_id)
    risk["model_version"] = model_version
    risk = risk.merge(risk_drivers(frame, latest, model), on="machine_id", how="left")
    return (
        risk[RISK_TABLE_COLUMNS]
        .sort_values("p_failure_72h", ascending=False)
        .reset_index(drop=True)
    )
