"""Model lifecycle sensors: reviewer decisions in the MLflow registry, and calibration drift."""

import dagster as dg

from ml.config import load_config
from ml.drift import recent_calibration
from orchestration.defs.ml import jobs
from orchestration.defs.ml.jobs import ReviewDecision
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin import warehouse

# Expected calibration error of the champion on the last two weeks above which it is retrained;
# the promotion gate accepts up to 0.10, so 0.15 means it has clearly drifted since.
DRIFT_ECE = 0.15


@dg.sensor(
    job=jobs.apply_review_decision_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def model_review_sensor(context: dg.SensorEvaluationContext, model_registry: ModelRegistry):
    """Watch the MLflow registry for `review=approved` / `review=rejected` on versions that passed the gate.

    Only in review mode (TWIN_MODEL_REVIEW): otherwise promotion is automatic and a review tag is
    not acted on.
    """
    if not model_registry.review_required:
        return dg.SkipReason(
            "review mode is off (TWIN_MODEL_REVIEW is not set): promotion does not wait for "
            "reviewers and review tags are not acted on"
        )
    from ml.promotion import review_decisions_to_apply, unrecognised_review_values
    from ml.registry import REVIEW_DECISIONS

    registry = model_registry.registry()
    for version, value in unrecognised_review_values(registry):
        context.log.warning(
            f"failure_model v{version}: review={value!r} is not one of {REVIEW_DECISIONS}: ignored"
        )
    requests = [
        dg.RunRequest(
            run_key=f"review-{version}-{decision}",
            run_config=dg.RunConfig(
                ops={"apply_review_decision": ReviewDecision(version=version, decision=decision)}
            ),
        )
        for version, decision in review_decisions_to_apply(registry)
    ]
    return requests or dg.SkipReason("no new review decisions")


@dg.sensor(
    job=jobs.failure_model_retrain_job,
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def champion_drift_sensor(
    context: dg.SensorEvaluationContext, twin: TwinHome, model_registry: ModelRegistry
):
    """Request a retraining when the champion's calibration on the last two weeks has drifted."""
    registry = model_registry.registry()
    if registry.champion_version() is None:
        return dg.SkipReason("no champion yet")
    model, version = registry.load_champion()
    frame = warehouse.read_table(twin.paths, "marts.fct_machine_hourly_features")
    ece = recent_calibration(frame, model, load_config())
    if ece is None or ece <= DRIFT_ECE:
        return dg.SkipReason(f"champion v{version} calibration error {ece} within {DRIFT_ECE}")
    return dg.RunRequest(
        run_key=f"drift-v{version}-{frame['as_of'].max()}",
        tags={"reason": f"calibration error {ece:.3f} > {DRIFT_ECE}"},
    )
