"""Failure-risk model: retrain and register the challenger, promote through the gate, score machines."""

import dagster as dg

from ml.config import FailureModelConfig, load_config
from orchestration.lib.conditions import refresh_after_new_data
from orchestration.lib.ml_metadata import (
    gate_check_result,
    markdown_table,
    risk_preview,
    training_metadata,
)
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin import warehouse
from twin.publish.inputs import write_input

FEATURES = dg.AssetKey(["marts", "fct_machine_hourly_features"])
FEATURES_TABLE = "marts.fct_machine_hourly_features"
GATE_CHECK = "failure_model_promotion_gate"
CHAMPION = dg.AssetKey(["ml", "failure_model_champion"])


class PromotionFloorOverrides(dg.Config):
    """Per-run overrides of the gate's absolute floors (DESIGN §4), e.g. from the launchpad.

    Unset fields keep the configured value ($TWIN_ML_CONFIG, else event recall 0.85 at
    precision 0.50, no calibration floor).
    """

    # Fields of ml.config.PromotionFloors, which holds the floors themselves.
    min_event_recall: float | None = None
    min_precision: float | None = None
    max_ece: float | None = None

    def model_config_for(self) -> FailureModelConfig:
        return load_config().with_floor_overrides(**self.model_dump())


@dg.asset(
    key=["ml", "failure_model"],
    group_name="ml",
    deps=[FEATURES],
    kinds={"mlflow", "sklearn"},
    owners=["team:reliability"],
    check_specs=[
        dg.AssetCheckSpec(
            GATE_CHECK,
            asset=["ml", "failure_model"],
            blocking=True,
            description="The challenger clears the recall/precision/calibration floors and is not "
            "worse than the champion on the same held-out weeks.",
        )
    ],
)
def failure_model(
    context: dg.AssetExecutionContext,
    config: PromotionFloorOverrides,
    twin: TwinHome,
    model_registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Retrain the 72-hour failure-risk model on the hourly machine features; register it in MLflow as the challenger."""
    from ml import pipeline  # sklearn and MLflow load in the runs that need them

    frame = warehouse.read_table(twin.paths, FEATURES_TABLE)
    # The plant model's FMEA declaration: failures of modes without a precursor are expected misses.
    result = pipeline.retrain(
        frame,
        model_registry.registry(),
        config.model_config_for(),
        dagster_run_id=context.run_id,
        modes_without_precursor=twin.plant().modes_without_precursor,
    )
    return dg.MaterializeResult(
        metadata=training_metadata(result), check_results=[gate_check_result(GATE_CHECK, result)]
    )


@dg.asset(
    key=["ml", "failure_model_champion"],
    group_name="ml",
    deps=[dg.AssetKey(["ml", "failure_model"])],
    kinds={"mlflow"},
    owners=["team:reliability"],
)
def failure_model_champion(
    context: dg.AssetExecutionContext, model_registry: ModelRegistry
) -> dg.MaterializeResult:
    """Promote the challenger that passed the gate to champion (or, in reviewer mode, leave it awaiting a reviewer)."""
    from ml.promotion import promote_challenger

    outcome = promote_challenger(
        model_registry.registry(), review_required=model_registry.review_required
    )
    if not outcome.promoted:
        return dg.MaterializeResult(metadata={"action": outcome.description})
    context.log.info(f"failure_model v{outcome.version} is now champion")
    return dg.MaterializeResult(
        metadata={"action": outcome.description, "champion_version": outcome.version}
    )


@dg.asset(
    key=["ml", "machine_failure_risk_scores"],
    group_name="ml",
    deps=[FEATURES, CHAMPION],
    kinds={"parquet"},
    owners=["team:reliability"],
    # before the first model is trained the reliability fallback scores the machines
    automation_condition=refresh_after_new_data(may_be_missing=dg.AssetSelection.assets(CHAMPION)),
)
def machine_failure_risk_scores(
    twin: TwinHome, model_registry: ModelRegistry
) -> dg.MaterializeResult:
    """Probability that each machine fails within 72 h, hours to failure (p10/p50/p90), the likely failure mode and the signals behind it, from the champion model (or the age-based fallback)."""
    from ml import pipeline

    frame = warehouse.read_table(twin.paths, FEATURES_TABLE)
    config = load_config()
    registry = model_registry.registry()
    plant = twin.plant()
    if registry.champion_version() is None:
        types = {m.id: m.type for m in plant.machines}
        model = pipeline.fallback_model(frame, "no champion model yet", config, types)
        version = model.model_version
    else:
        model, champion = registry.load_champion()
        version = f"failure_model v{champion}"
    table = pipeline.score_latest(frame, model, site_id=plant.site.id, model_version=version)
    write_input(twin.paths, "machine_failure_risk", table, "machine_failure_risk.parquet")
    why = table[["machine_id", "p_failure_72h", "risk_drivers"]].round(3)
    return dg.MaterializeResult(
        metadata={
            "model_version": version,
            **risk_preview(table),
            "risk_drivers": dg.MetadataValue.md(markdown_table(why)),
        }
    )
