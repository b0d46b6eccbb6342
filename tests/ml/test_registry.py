"""Registry tests against the session's temporary SQLite tracking store (one model name per test run)."""

import uuid
from pathlib import Path

import mlflow
import pytest
import skops.io

from ml import evaluate, plots
from ml.registry import (
    CHAMPION,
    DAGSTER_RUN_ID_TAG,
    REVIEW_APPROVED,
    REVIEW_PENDING,
    REVIEW_REJECTED,
    REVIEW_TAG,
    TRUSTED_TYPES,
    FailureModelRegistry,
    UntrustedModelError,
    load_skops,
)


class NotAModel:
    """A type no one declared trusted."""


@pytest.fixture(scope="module", autouse=True)
def foreign_cwd(tmp_path_factory):
    """Run from an empty directory and prove nothing lands there (MLflow's cwd defaults)."""
    cwd = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        yield cwd
    assert list(cwd.iterdir()) == []


@pytest.fixture(scope="module")
def registry(tracking_uri) -> FailureModelRegistry:
    return FailureModelRegistry(tracking_uri, model_name=f"failure_model_{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
def evaluation(trained, synthetic, config):
    return evaluate.score(trained.model, trained.test, config, events=synthetic[1])


@pytest.fixture(scope="module")
def first_version(registry, trained, evaluation, config) -> str:
    importance = evaluate.feature_importance(trained.model, trained.test, config, max_rows=1500)
    return registry.register_challenger(
        trained.model,
        metrics=evaluation.metrics,
        params=config.model_dump(),
        data_window=trained.split.as_dict(),
        dagster_run_id="run-0001",
        input_frame=trained.test,
        figures=plots.review_figures(evaluation, importance, config.horizon_h),
        tables={"per_mode": evaluation.per_mode},
        gate=evaluate.should_promote(evaluation.metrics, None, config.floors),
        what_changed="first model",
    )


def test_challenger_version_carries_run_metrics_tags_plots_and_description(
    registry, first_version, evaluation
) -> None:
    client = registry.client
    mv = client.get_model_version(registry.model_name, first_version)
    assert registry.challenger_version() == first_version
    assert registry.champion_version() is None
    assert mv.tags == {DAGSTER_RUN_ID_TAG: "run-0001", REVIEW_TAG: REVIEW_PENDING}
    assert "Gate PASSED" in mv.description
    assert "event_recall" in mv.description
    assert "first model" in mv.description
    run = client.get_run(mv.run_id)
    assert run.data.tags[DAGSTER_RUN_ID_TAG] == "run-0001"
    assert run.data.metrics["event_recall"] == pytest.approx(evaluation.metrics["event_recall"])
    assert run.data.params["horizon_h"] == "72.0"
    assert "data.t_split" in run.data.params
    assert client.get_experiment(run.info.experiment_id).name == registry.model_name
    plots_logged = {Path(a.path).name for a in client.list_artifacts(mv.run_id, "plots")}
    assert plots_logged == {
        "pr_curve.png",
        "calibration.png",
        "feature_importance.png",
        "risk_before_failures.png",
    }
    top = {a.path for a in client.list_artifacts(mv.run_id)}
    assert {"data_window.json", "tables"} <= top


def test_model_is_stored_with_skops_signature_and_declared_trusted_types(
    registry, first_version, tmp_path
) -> None:
    local = Path(registry.download_model(first_version, str(tmp_path)))
    info = mlflow.models.Model.load(str(local / "MLmodel"))
    flavor = info.flavors["sklearn"]
    assert flavor["serialization_format"] == "skops"
    assert flavor["skops_trusted_types"] == list(TRUSTED_TYPES)
    assert info.signature is not None
    assert "p_failure_72h" in info.signature.outputs.input_names()
    assert (local / "input_example.json").exists()


def test_declared_trusted_types_cover_exactly_what_the_model_needs(trained, tmp_path) -> None:
    path = tmp_path / "m.skops"
    skops.io.dump(trained.model, path)
    assert set(skops.io.get_untrusted_types(file=path)) == set(TRUSTED_TYPES)
    loaded = load_skops(path)
    assert loaded.predict_risk(trained.test).equals(trained.model.predict_risk(trained.test))


def test_a_file_with_an_undeclared_type_is_never_loaded(tmp_path) -> None:
    path = tmp_path / "evil.skops"
    skops.io.dump({"payload": NotAModel()}, path)
    with pytest.raises(UntrustedModelError, match="NotAModel"):
        load_skops(path)


def test_review_primitives(registry, first_version) -> None:
    assert registry.versions_awaiting_review() == [first_version]
    registry.set_review(first_version, REVIEW_APPROVED, reviewer="maintenance.lead")
    assert registry.review(first_version) == REVIEW_APPROVED
    assert registry.versions_awaiting_review() == []
    with pytest.raises(ValueError, match=REVIEW_APPROVED):
        registry.set_review(first_version, "maybe")


def test_champion_is_loaded_from_the_registry_and_scores(registry, first_version, trained) -> None:
    with pytest.raises(LookupError, match=CHAMPION):
        registry.load_champion()
    registry.promote(first_version)
    model, version = registry.load_champion()
    assert version == first_version
    risk = model.predict_risk(trained.test)
    assert risk.equals(trained.model.predict_risk(trained.test))
    assert not mlflow.is_tracking_uri_set()  # the fluent URI was restored, nothing global leaked


def test_loading_a_version_draws_nothing_on_the_terminal(
    registry, first_version, trained, capfd
) -> None:
    # scoring loads the champion on every `twin run`: no download progress bars in its output
    capfd.readouterr()
    model = registry.load_version(first_version)
    assert capfd.readouterr().err == ""
    assert model.predict_risk(trained.test).equals(trained.model.predict_risk(trained.test))


def test_second_training_is_gated_against_the_champion_on_the_same_data(
    registry, first_version, trained, evaluation, config
) -> None:
    registry.promote(first_version)
    champion, _ = registry.load_champion()
    champ_metrics = evaluate.score(champion, trained.test, config).metrics
    challenger_metrics = evaluation.metrics | {"pr_auc": champ_metrics["pr_auc"] - 0.1}
    gate = evaluate.should_promote(challenger_metrics, champ_metrics, config.floors)
    assert not gate[0]
    v2 = registry.register_challenger(
        trained.model,
        metrics=challenger_metrics,
        params=config.model_dump(),
        data_window=trained.split.as_dict(),
        dagster_run_id="run-0002",
        input_frame=trained.test,
        gate=gate,
    )
    assert int(v2) == int(first_version) + 1
    assert registry.challenger_version() == v2
    assert registry.champion_version() == first_version  # refused: champion stays
    assert "Gate REFUSED" in registry.client.get_model_version(registry.model_name, v2).description
    assert registry.versions_awaiting_review() == [v2]
    registry.set_review(v2, REVIEW_REJECTED)
    assert registry.review(v2) == REVIEW_REJECTED


def test_version_description_names_the_data_window_the_pipeline_trained_on(
    tracking_uri, synthetic, config
) -> None:
    # Regression: the pipeline stores the split as `split.start`, ...; the description read `start`
    # and every version said "trained on None .. None".
    from ml import pipeline

    registry = FailureModelRegistry(tracking_uri, model_name=f"window_{uuid.uuid4().hex[:6]}")
    result = pipeline.retrain(synthetic[0], registry, config, dagster_run_id="run-window")
    split = result.data_window
    description = registry.client.get_model_version(registry.model_name, result.version).description
    assert "None" not in description
    expected = (
        f"trained on {split['split.start']} .. {split['split.train_end']}, held out "
        f"{split['split.t_split']} .. {split['split.end']} (gap {split['split.gap_h']} h"
    )
    assert expected in description
    assert split["split.start"].startswith(str(synthetic[0]["as_of"].min().date()))
