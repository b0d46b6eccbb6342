"""The freshness check on the published tables fails while the twin is behind its planning cadence."""

import dagster as dg

from orchestration.defs.monitoring.checks import PLANNING_TABLES, publication_freshness


def _evaluate(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    checks = publication_freshness().asset_checks
    defs = dg.Definitions(
        assets=[dg.AssetSpec(PLANNING_TABLES)],
        asset_checks=checks,
        jobs=[dg.define_asset_job("freshness", selection=dg.AssetSelection.all_asset_checks())],
    )
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_never_published_is_not_fresh() -> None:
    with dg.instance_for_test() as instance:
        evaluation = _evaluate(instance)
    assert evaluation.asset_key == PLANNING_TABLES
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_published_within_the_day_is_fresh() -> None:
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=PLANNING_TABLES))
        assert _evaluate(instance).passed


def test_the_freshness_sensor_runs_by_default() -> None:
    sensor = next(
        s for s in publication_freshness().sensors if s.name == "publication_freshness_sensor"
    )
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
