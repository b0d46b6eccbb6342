"""The landing sensor turns the files landed together into one burst, one partition and one load request."""

import dagster as dg

from orchestration.definitions import defs
from orchestration.lib.resources import TwinHome
from twin.ingest import bursts
from twin.paths import DEMO_PLANT, TwinPaths

HISTORIAN_CSV = "tag,ts,value,quality\nL1-M01.spindle_temp,2026-01-05T06:00:00Z,41.5,GOOD\n"
CMMS_CSV = "work_order_id,machine_id,type,failure_mode,start_ts,end_ts\n"


def _evaluate(instance: dg.DagsterInstance, paths: TwinPaths) -> dg.SensorResult:
    sensor = defs().resolve_sensor_def("landing_files_sensor")
    resources = {"twin": TwinHome(home=str(paths.home), plant_file=str(DEMO_PLANT))}
    context = dg.build_sensor_context(instance=instance, resources=resources)
    return sensor(context)


def _register(instance: dg.DagsterInstance, result: dg.SensorResult) -> None:
    """What the daemon does with a tick's result: add the partitions it asks for."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_files_landed_together_are_one_burst_and_one_load_request(twin_env) -> None:
    paths = TwinPaths(twin_env).ensure()
    (paths.landing_dir("historian") / "h1.csv").write_text(HISTORIAN_CSV)
    (paths.landing_dir("historian") / "h2.csv").write_text(HISTORIAN_CSV.replace("41.5", "41.7"))
    (paths.landing_dir("cmms") / "wo.csv").write_text(CMMS_CSV)
    (paths.landing_dir("historian") / "h3.csv.tmp").write_text(HISTORIAN_CSV + "x")  # being written
    with dg.instance_for_test() as instance:
        first = _evaluate(instance, paths)
        (request,) = first.run_requests
        assert request.job_name == "ingest_job"
        assert request.run_key == request.partition_key
        assert [r.partitions_def_name for r in first.dynamic_partitions_requests] == [
            "landing_bursts"
        ]
        (burst,) = bursts.list_bursts(paths)
        assert burst.burst_id == request.partition_key
        files = sorted(b.file for b in bursts.burst_batches(paths, burst.burst_id))
        assert files == ["h1.csv", "h2.csv", "wo.csv"]
        assert not (paths.landing_dir("historian") / "h1.csv").exists()
        assert (paths.landing_dir("historian") / "h3.csv.tmp").exists()
        _register(instance, first)

        # Nothing new: no request. The same content dropped again is not a new batch either.
        assert _evaluate(instance, paths).run_requests == []
        (paths.landing_dir("historian") / "h1_again.csv").write_text(HISTORIAN_CSV)
        assert _evaluate(instance, paths).run_requests == []

        # The file that finished writing later is a burst of its own.
        (paths.landing_dir("historian") / "h3.csv.tmp").rename(
            paths.landing_dir("historian") / "h3.csv"
        )
        (later,) = _evaluate(instance, paths).run_requests
        assert later.partition_key != request.partition_key
        assert [b.file for b in bursts.burst_batches(paths, later.partition_key)] == ["h3.csv"]


def test_a_burst_recorded_but_never_requested_is_requested_on_the_next_tick(twin_env) -> None:
    """A crash between recording a burst and the daemon adding its partition loses nothing."""
    paths = TwinPaths(twin_env).ensure()
    (paths.landing_dir("historian") / "h1.csv").write_text(HISTORIAN_CSV)
    with dg.instance_for_test() as instance:
        first = _evaluate(instance, paths)  # the result is lost: nothing registered
        again = _evaluate(instance, paths)
        assert [r.run_key for r in again.run_requests] == [r.run_key for r in first.run_requests]
        assert len(bursts.list_bursts(paths)) == 1
