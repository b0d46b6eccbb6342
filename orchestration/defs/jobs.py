"""Jobs: load one landed batch per run, and refresh the KPIs from whatever is in the lake."""

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

kpi_job = dg.define_asset_job(
    "kpi_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["raw", "plant_model"]))
    | dg.AssetSelection.groups("staging", "intermediate", "marts"),
    description="Refresh the plant reference tables and rebuild the KPI marts from the lake.",
)

publication_job = dg.define_asset_job(
    "publication_job",
    selection=dg.AssetSelection.groups("publish"),
    description="Build the published tables, run their contracts (blocking) and publish a new version.",
)
