"""The publication job: build the published tables, check their contracts, publish a version."""

import dagster as dg

publication_job = dg.define_asset_job(
    "publication_job",
    selection=dg.AssetSelection.groups("publish"),
    description="Build the published tables, run their contracts (blocking) and publish a new version.",
)
