"""The landing sensor turns every complete landed file into one partition and one load request."""

import dagster as dg

from orchestration.definitions import defs
from orchestration.lib.resources import TwinHome
from twin.paths import DEMO_PLANT, TwinPaths

HISTORIAN_CSV = "tag,ts,value,quality\nL1-M01.spindle_temp,2026-01-05T06:00:00Z,41.5,GOOD\n"


def _evaluate(instance: dg.DagsterInstance, paths: TwinPaths) -> dg.SensorResult:
    sensor = defs().resolve_sensor_def("landing_files_sensor")
    resources = {"twin": TwinHome(home=str(paths.home), plant_file=str(DEMO_PLANT))}
    context = dg.build_sensor_context(instance=instance, resources=resources)
    return sensor(context)


def test_a_landed_file_is_archived_registered_and_requested_once(twin_env) -> None:
    paths = TwinPaths(twin_env).ensure()
    (paths.landing_dir("historian") / "h1.csv").write_text(HISTORIAN_CSV)
    (paths.landing_dir("historian") / "h2.csv.tmp").write_text(
        HISTORIAN_CSV + "x"
    )  # still being written
    with dg.instance_for_test() as instance:
        first = _evaluate(instance, paths)
        assert len(first.run_requests) == 1
        request = first.run_requests[0]
        assert request.job_name == "ingest_historian_job"
        assert request.run_key == request.partition_key
        assert len(request.partition_key) == 64  # sha256 of the content
        assert [r.partitions_def_name for r in first.dynamic_partitions_requests] == [
            "historian_batches"
        ]
        assert not (paths.landing_dir("historian") / "h1.csv").exists()
        assert (paths.landing_dir("historian") / "h2.csv.tmp").exists()
        instance.add_dynamic_partitions("historian_batches", [request.partition_key])

        # The same content dropped again is not a new batch.
        (paths.landing_dir("historian") / "h1_again.csv").write_text(HISTORIAN_CSV)
        second = _evaluate(instance, paths)
        assert second.run_requests == []
