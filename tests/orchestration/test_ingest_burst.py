"""One landing burst is one load run: the real sensor, the real ingest job, the real batch loads."""

from datetime import timedelta

import dagster as dg

from orchestration.definitions import defs
from orchestration.lib.resources import TwinHome
from tests.support.batches import T0, demo_plant, land, make_cmms_batch, make_mes_states_batch
from twin.ingest.audit import read_audit
from twin.paths import DEMO_PLANT, TwinPaths

HISTORIAN = dg.AssetKey(["raw", "historian"])


def complete_historian_batch(minutes: int = 10) -> str:
    """Every tag of L1-M01 at its own period for ``minutes``: a file that passes completeness."""
    rows = ["tag,ts,value,quality"]
    for tag in demo_plant().machine("L1-M01").tags:
        for i in range(int(minutes * 60 // tag.period_s)):
            ts = T0 + timedelta(seconds=i * tag.period_s)
            rows.append(f"{tag.tag},{ts:%Y-%m-%dT%H:%M:%SZ},{(tag.min + tag.max) / 2},GOOD")
    return "\n".join(rows) + "\n"


def _tick(instance: dg.DagsterInstance, paths: TwinPaths) -> dg.SensorResult:
    sensor = defs().resolve_sensor_def("landing_files_sensor")
    resources = {"twin": TwinHome(home=str(paths.home), plant_file=str(DEMO_PLANT))}
    result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _run(instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    job = defs().resolve_job_def(request.job_name)  # resources bound to this TWIN_HOME
    return job.execute_in_process(
        instance=instance, partition_key=request.partition_key, raise_on_error=False
    )


def test_files_of_three_sources_landed_together_load_in_one_run(twin_env) -> None:
    paths = TwinPaths(twin_env).ensure()
    land(paths, "historian", "h.csv", complete_historian_batch())
    land(paths, "mes_states", "s.csv", make_mes_states_batch())
    land(paths, "cmms", "wo.csv", make_cmms_batch())
    with dg.instance_for_test() as instance:
        (request,) = _tick(instance, paths).run_requests
        run = _run(instance, request)
        assert run.success
        materialized = {
            (e.asset_key.path[-1], e.partition) for e in run.get_asset_materialization_events()
        }
        assert materialized == {
            (source, request.partition_key) for source in ("historian", "mes_states", "cmms")
        }
        assert len(instance.get_run_records()) == 1
        assert {r["file"]: r["status"] for r in read_audit(paths)} == {
            "h.csv": "loaded",
            "s.csv": "loaded",
            "wo.csv": "loaded",
        }


def test_a_quarantined_file_fails_its_check_by_name_and_the_good_file_still_loads(twin_env) -> None:
    paths = TwinPaths(twin_env).ensure()
    land(paths, "historian", "good.csv", complete_historian_batch())
    land(paths, "historian", "broken.csv", b"tag,ts\n\x00\xff\xfe garbage")
    with dg.instance_for_test() as instance:
        (request,) = _tick(instance, paths).run_requests
        run = _run(instance, request)
        statuses = {r["file"]: r["status"] for r in read_audit(paths)}
        assert statuses == {"good.csv": "loaded", "broken.csv": "quarantined"}
        # the good file's rows are in the lake and downstream may use them
        (event,) = run.get_asset_materialization_events()
        assert (event.asset_key, event.partition) == (HISTORIAN, request.partition_key)
        (contract,) = [
            e
            for e in run.get_asset_check_evaluations()
            if e.check_name == "historian_batch_contract"
        ]
        assert contract.passed is False
        failed = contract.metadata["failed_files"].value
        assert [f["file"] for f in failed] == ["broken.csv"]
        assert failed[0]["status"] == "quarantined"
        # a blocking check failed: the run says so (the alert sensor reports failed runs)
        assert not run.success
