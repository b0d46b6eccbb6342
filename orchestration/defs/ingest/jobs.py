"""The batch load job: one run loads one landing burst (every source's batches in it) and checks them."""

import dagster as dg

from orchestration.defs.ingest.partitions import LANDING_BURSTS
from twin.paths import SOURCES

INGEST_JOB = "ingest_job"

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.assets(*(dg.AssetKey(["raw", source]) for source in SOURCES)),
    partitions_def=LANDING_BURSTS,
    description="Load the landed batches of one burst into the lake and check each of them.",
)
