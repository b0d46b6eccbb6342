"""Watch the landing zone: the files claimed in a tick become one landing burst and one load run."""

import dagster as dg

from orchestration.defs.ingest.jobs import INGEST_JOB, ingest_job
from orchestration.defs.ingest.partitions import LANDING_BURSTS
from orchestration.lib.resources import TwinHome
from twin.ingest import bursts, landing


@dg.sensor(
    name="landing_files_sensor",
    # the first hop of every landing waits for it; a directory listing when nothing landed: cheap
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[ingest_job],
)
def landing_files_sensor(context: dg.SensorEvaluationContext, twin: TwinHome) -> dg.SensorResult:
    """Archive every complete file in landing/<source>/, group what is not loaded yet into one
    burst, and request one load run per burst not requested before."""
    claimed = landing.claim_landed_files(twin.paths)
    bursts.open_burst(twin.paths)
    # Bursts recorded earlier but never registered (a crash between recording and requesting)
    # are requested too; run_key = burst id makes each load requested once.
    known = set(context.instance.get_dynamic_partitions(LANDING_BURSTS.name))
    new = [b.burst_id for b in bursts.list_bursts(twin.paths) if b.burst_id not in known]
    if claimed:
        context.log.info(f"claimed {len(claimed)} landed file(s) into {len(new)} new burst(s)")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=burst_id, partition_key=burst_id, job_name=INGEST_JOB)
            for burst_id in new
        ],
        dynamic_partitions_requests=[LANDING_BURSTS.build_add_request(new)] if new else [],
    )
