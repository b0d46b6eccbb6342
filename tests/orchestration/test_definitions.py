"""The code location loads and exposes the graph the operators rely on."""

import datetime

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.lib.dbt_project import LOAD_IN_PROGRESS
from twin.paths import SOURCES


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_every_source_has_an_ingest_asset_partitioned_by_landing_burst_with_blocking_checks(
    definitions,
) -> None:
    graph = definitions.resolve_asset_graph()
    for source in SOURCES:
        key = dg.AssetKey(["raw", source])
        node = graph.get(key)
        assert node.partitions_def is not None
        assert node.partitions_def.name == "landing_bursts"
        checks = {check.name: check for check in definitions.resolve_assets_def(key).check_specs}
        assert checks[f"{source}_batch_contract"].blocking
    historian_checks = {
        c.name
        for c in definitions.resolve_assets_def(dg.AssetKey(["raw", "historian"])).check_specs
    }
    assert "historian_tag_completeness" in historian_checks


def test_dbt_kpi_marts_depend_on_the_ingest_assets(definitions) -> None:
    graph = definitions.resolve_asset_graph()
    machine_kpis = dg.AssetKey(["marts", "fct_machine_kpis_daily"])
    upstream = (
        graph.upstream_key_closure(machine_kpis) if hasattr(graph, "upstream_key_closure") else None
    )
    if upstream is None:
        upstream = set()
        frontier = {machine_kpis}
        while frontier:
            key = frontier.pop()
            for parent in graph.get(key).parent_keys:
                if parent not in upstream:
                    upstream.add(parent)
                    frontier.add(parent)
    for source in ("historian", "mes_states", "mes_production", "cmms", "plant_model"):
        assert dg.AssetKey(["raw", source]) in upstream
    assert graph.get(machine_kpis).group_name == "marts"


def test_the_landing_sensor_and_jobs_are_defined(definitions) -> None:
    sensor = definitions.resolve_sensor_def("landing_files_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    # one load job for every source: a burst of files from several sources is one run
    ingest = definitions.resolve_job_def("ingest_job")
    assert ingest.asset_layer.selected_asset_keys == {
        dg.AssetKey(["raw", source]) for source in SOURCES
    }
    # so the staging models may wait for any one raw asset to wait for every load
    assert set(LOAD_IN_PROGRESS) <= ingest.asset_layer.selected_asset_keys
    assert definitions.resolve_job_def("kpi_job") is not None


def test_schedules_run_in_plant_time(definitions) -> None:
    nightly = definitions.resolve_schedule_def("nightly_scenario_schedule")
    weekly = definitions.resolve_schedule_def("weekly_failure_model_schedule")
    assert (nightly.cron_schedule, nightly.execution_timezone) == ("0 2 * * *", "Europe/Berlin")
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 3 * * 1", "Europe/Berlin")
    assert nightly.default_status == weekly.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_nightly_schedule_fans_out_one_run_per_scenario(definitions) -> None:
    from twin.simulation.scenarios import load_scenarios

    schedule = definitions.resolve_schedule_def("nightly_scenario_schedule")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime.datetime(2026, 11, 23, 2, 0),
            repository_def=definitions.get_repository_def(),
        )
        requests = schedule.evaluate_tick(context).run_requests
    assert sorted(r.partition_key for r in requests) == [s.id for s in load_scenarios()]
    assert len({r.run_key for r in requests}) == len(requests)
