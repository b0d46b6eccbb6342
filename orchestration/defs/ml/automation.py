"""Model lifecycle automation: weekly retraining, reviewer decisions, and calibration drift."""

import dagster as dg

from ml.config import load_config
from ml.drift import recent_calibration
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin import warehouse

ML_ASSETS = dg.AssetSelection.assets(
    dg.AssetKey(["ml", "failure_model"]),
    dg.AssetKey(["ml", "failure_model_champion"]),
    dg.AssetKey(["ml", "machine_failure_risk_scores"]),
)
# Expected calibration error of the champion on the last two weeks above which it is retrained;
# the promotion gate accepts up to 0.10, so 0.15 means it has clearly drifted since.
DRIFT_ECE = 0.15

failure_model_retrain_job = dg.define_asset_job(
    "failure_model_retrain_job",
    selection=ML_ASSETS,
    description="Retrain the failure-risk model, gate and promote it, and rescore every machine.",
)
failure_risk_scoring_job = dg.define_asset_job(
    "failure_risk_scoring_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["ml", "machine_failure_risk_scores"])),
    description="Rescore every machine with the current champion (or the reliability fallback).",
)


class ReviewDecision(dg.Config):
    version: str
    decision: str


@dg.op
def apply_review_decision(
    context: dg.OpExecutionContext, config: ReviewDecision, model_registry: ModelRegistry
) -> None:
    """Promote an approved challenger that passed the gate; retire a rejected one."""
    registry = model_registry.registry()
    if config.decision == "approved":
        registry.promote(config.version)
        context.log.info(f"failure_model v{config.version} approved by review: now champion")
    elif registry.challenger_version() == config.version:
        registry.client.delete_registered_model_alias(registry.model_name, "challenger")
        context.log.info(f"failure_model v{config.version} rejected by review: challenger retired")
    registry.client.set_model_version_tag(
        registry.model_name, config.version, "review_applied", config.decision
    )


@dg.job(description="Act on a reviewer's decision recorded in the MLflow model registry.")
def apply_review_decision_job():
    apply_review_decision()


@dg.sensor(
    job=apply_review_decision_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def model_review_sensor(context: dg.SensorEvaluationContext, model_registry: ModelRegistry):
    """Watch the MLflow registry for `review=approved` / `review=rejected` on versions that passed the gate."""
    registry = model_registry.registry()
    found = registry.client.search_model_versions(f"name = '{registry.model_name}'")
    requests = []
    for version in found:
        decision = version.tags.get("review")
        if decision not in ("approved", "rejected") or version.tags.get("review_applied"):
            continue
        if decision == "approved" and version.tags.get("gate") != "passed":
            continue  # a reviewer cannot override the gate
        config = ReviewDecision(version=str(version.version), decision=decision)
        requests.append(
            dg.RunRequest(
                run_key=f"review-{version.version}-{decision}",
                run_config=dg.RunConfig(ops={"apply_review_decision": config}),
            )
        )
    return requests or dg.SkipReason("no new review decisions")


@dg.sensor(
    job=failure_model_retrain_job,
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
