"""Model lifecycle jobs: retrain and rescore (asset jobs), and act on a reviewer's decision (op job)."""

import dagster as dg

from orchestration.lib.resources import ModelRegistry

ML_ASSETS = dg.AssetSelection.assets(
    dg.AssetKey(["ml", "failure_model"]),
    dg.AssetKey(["ml", "failure_model_champion"]),
    dg.AssetKey(["ml", "machine_failure_risk_scores"]),
)

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
    """Promote an approved version that passes the gate against the champion; retire a rejected one."""
    from ml.promotion import apply_review
    from ml.registry import REVIEW_DECISIONS, REVIEW_OUTCOME_TAG

    effect = apply_review(model_registry.registry(), config.version, config.decision)
    if effect == "promoted":
        context.log.info(f"failure_model v{config.version} approved by review: now champion")
    elif effect == "challenger_retired":
        context.log.info(f"failure_model v{config.version} rejected by review: challenger retired")
    elif effect == "refused":
        reason = model_registry.registry().version_tags(config.version).get(REVIEW_OUTCOME_TAG)
        context.log.warning(f"failure_model v{config.version} approved but not promoted: {reason}")
    elif effect == "ignored":
        context.log.warning(
            f"review decision {config.decision!r} for failure_model v{config.version} is not one "
            f"of {REVIEW_DECISIONS}: ignored"
        )


@dg.job(description="Act on a reviewer's decision recorded in the MLflow model registry.")
def apply_review_decision_job():
    apply_review_decision()
