"""Batch load jobs: one per source, a run loads landed batches (partitions) into the lake and checks them."""

import dagster as dg

from orchestration.defs.ingest.partitions import BATCH_PARTITIONS
from twin.paths import SOURCES


def ingest_job_name(source: str) -> str:
    return f"ingest_{source}_job"


ingest_jobs = [
    dg.define_asset_job(
        ingest_job_name(source),
        selection=dg.AssetSelection.assets(dg.AssetKey(["raw", source])),
        partitions_def=BATCH_PARTITIONS[source],
        description=f"Load one landed {source} batch into the lake and check it.",
    )
    for source in SOURCES
]
