"""Watch the landing zone: every complete file becomes a batch partition and a load run."""

import dagster as dg

from orchestration.defs.ingest import jobs
from orchestration.defs.ingest.partitions import BATCH_PARTITIONS
from orchestration.lib.resources import TwinHome
from twin.ingest import landing


@dg.sensor(
    name="landing_files_sensor",
    minimum_interval_seconds=10,  # a directory listing when nothing landed: cheap
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=jobs.ingest_jobs,
)
def landing_files_sensor(context: dg.SensorEvaluationContext, twin: TwinHome) -> dg.SensorResult:
    """Archive every complete file in landing/<source>/ and request one load run per new batch."""
    claimed = landing.claim_landed_files(twin.paths)
    # Batches archived earlier but never registered (e.g. claimed by `twin run` or a crash between
    # claim and request) are picked up too; run_key = batch id makes each load requested once.
    requests, partition_requests = [], []
    for source, partitions in BATCH_PARTITIONS.items():
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        new = [
            b.batch_id
            for b in landing.archived_batches(twin.paths, source)
            if b.batch_id not in known
        ]
        if new:
            partition_requests.append(partitions.build_add_request(new))
        requests += [
            dg.RunRequest(
                run_key=batch_id, partition_key=batch_id, job_name=jobs.ingest_job_name(source)
            )
            for batch_id in new
        ]
    if claimed:
        context.log.info(f"claimed {len(claimed)} landed file(s)")
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)
