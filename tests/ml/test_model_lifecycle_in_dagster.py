"""The model lifecycle as Dagster runs it: train → gate (blocking) → promote or wait → score."""

import dagster as dg
import duckdb
import pandas as pd
import pytest
from mlflow import MlflowClient

from ml.registry import FailureModelRegistry
from orchestration.defs.ml.assets import (
    failure_model,
    failure_model_champion,
    machine_failure_risk_scores,
)
from orchestration.defs.ml.jobs import apply_review_decision_job
from orchestration.defs.ml.sensors import model_review_sensor
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin.paths import DEMO_PLANT, TwinPaths

ML_ASSETS = [failure_model, failure_model_champion, machine_failure_risk_scores]


@pytest.fixture
def twin(tmp_path, frame_factory) -> TwinHome:
    """A TWIN_HOME whose warehouse holds an hourly feature mart (the synthetic plant's)."""
    paths = TwinPaths(tmp_path / "home").ensure()
    # Seed 1: a synthetic plant on which the default gate passes (recall 0.92, precision 0.81).
    frame, _ = frame_factory(n_machines=8, days=90, seed=1)
    with duckdb.connect(str(paths.warehouse)) as connection:
        connection.execute("create schema marts")
        connection.register("frame", frame)
        connection.execute("create table marts.fct_machine_hourly_features as select * from frame")
    return TwinHome(home=str(paths.home), plant_file=str(DEMO_PLANT))


def _registry(tmp_path, review_required: bool = False) -> ModelRegistry:
    db = tmp_path / "mlflow.db"
    return ModelRegistry(
        tracking_uri=f"sqlite:///{db}",
        artifact_root=str(tmp_path / "artifacts"),
        review_required=review_required,
    )


def _materialize(twin, registry, instance, floors=None) -> dg.ExecuteInProcessResult:
    config = {"ops": {"ml__failure_model": {"config": floors}}} if floors else None
    return dg.materialize(
        ML_ASSETS,
        resources={"twin": twin, "model_registry": registry},
        instance=instance,
        run_config=config,
        raise_on_error=False,
    )


def test_a_challenger_that_clears_the_gate_becomes_champion_and_scores_every_machine(
    tmp_path, twin
) -> None:
    registry = _registry(tmp_path)
    with dg.instance_for_test() as instance:
        result = _materialize(twin, registry, instance)
    assert result.success
    (gate,) = result.get_asset_check_evaluations()
    assert gate.passed
    mlflow = registry.registry()
    assert mlflow.champion_version() == mlflow.challenger_version() == "1"
    scores = pd.read_parquet(twin.paths.lake / "ml" / "machine_failure_risk.parquet")
    assert len(scores) == 8
    assert set(scores["model_version"]) == {"failure_model v1"}
    assert scores["p_failure_72h"].between(0, 1).all()
    assert (scores["hours_to_failure_p10"] <= scores["hours_to_failure_p90"]).all()


def test_the_gate_blocks_promotion_of_a_challenger_below_the_floors(tmp_path, twin) -> None:
    registry = _registry(tmp_path)
    with dg.instance_for_test() as instance:
        result = _materialize(twin, registry, instance, floors={"min_event_recall": 1.01})
    assert not result.success  # the blocking check stopped the run before promotion
    (gate,) = result.get_asset_check_evaluations()
    assert not gate.passed
    assert gate.severity == dg.AssetCheckSeverity.ERROR
    assert "event_recall" in gate.description
    mlflow = registry.registry()
    assert mlflow.challenger_version() == "1"
    assert mlflow.champion_version() is None
    version = MlflowClient(registry.tracking_uri).get_model_version("failure_model", "1")
    assert version.tags["gate"] == "refused"


def test_in_reviewer_mode_promotion_waits_for_an_approval_in_the_registry(tmp_path, twin) -> None:
    registry = _registry(tmp_path, review_required=True)
    with dg.instance_for_test() as instance:
        assert _materialize(twin, registry, instance).success
        mlflow: FailureModelRegistry = registry.registry()
        assert mlflow.champion_version() is None  # passed the gate, but nobody has reviewed it

        context = dg.build_sensor_context(instance=instance, resources={"model_registry": registry})
        assert isinstance(model_review_sensor(context), dg.SkipReason)

        mlflow.set_review("1", "approved", reviewer="maintenance lead")
        (request,) = model_review_sensor(context)
        assert request.run_key == "review-1-approved"
        result = apply_review_decision_job.execute_in_process(
            run_config=request.run_config, resources={"model_registry": registry}, instance=instance
        )
        assert result.success
        assert mlflow.champion_version() == "1"
        # The decision is applied once: the sensor does not ask again.
        assert isinstance(model_review_sensor(context), dg.SkipReason)


def test_a_drifting_champion_triggers_a_retraining(tmp_path, twin) -> None:
    from orchestration.defs.ml.sensors import champion_drift_sensor

    registry = _registry(tmp_path)
    with dg.instance_for_test() as instance:
        assert _materialize(twin, registry, instance).success
        context = dg.build_sensor_context(
            instance=instance, resources={"twin": twin, "model_registry": registry}
        )
        assert isinstance(champion_drift_sensor(context), dg.SkipReason)  # calibrated on its data
        # The plant changes: the last two weeks now fail far more often than the model says.
        with duckdb.connect(str(twin.paths.warehouse)) as connection:
            connection.execute(
                "update marts.fct_machine_hourly_features set fails_within_72h = 1 "
                "where as_of > (select max(as_of) - interval 14 day from marts.fct_machine_hourly_features)"
            )
        request = champion_drift_sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert "calibration error" in request.tags["reason"]


def test_the_review_sensor_does_nothing_unless_review_mode_is_on(tmp_path, trained, config) -> None:
    from ml import evaluate

    registry = _registry(tmp_path, review_required=False)
    mlflow = registry.registry()
    metrics = evaluate.score(trained.model, trained.test, config).metrics
    version = mlflow.register_challenger(
        trained.model,
        metrics=metrics,
        params=config.model_dump(),
        data_window=trained.split.as_dict(),
        dagster_run_id="review-off",
        input_frame=trained.test,
    )
    mlflow.record_gate(version, True)
    mlflow.set_review(version, "approved")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"model_registry": registry})
        skipped = model_review_sensor(context)
        assert isinstance(skipped, dg.SkipReason)
        assert "review mode is off" in skipped.skip_message
        # The same registry in review mode: the approval would be acted on.
        on = dg.build_sensor_context(
            instance=instance,
            resources={"model_registry": _registry(tmp_path, review_required=True)},
        )
        (request,) = model_review_sensor(on)
    assert request.run_key == f"review-{version}-approved"
    assert mlflow.champion_version() is None
