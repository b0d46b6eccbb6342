"""The scenario batch job: one run simulates one scenario (a partition)."""

import dagster as dg

from orchestration.defs.simulation.partitions import (
    CAPACITY_RUNS,
    SCENARIO_BATCH_JOB,
    scenario_partitions,
)


@dg.definitions
def scenario_batch() -> dg.Definitions:
    job = dg.define_asset_job(
        SCENARIO_BATCH_JOB,
        selection=dg.AssetSelection.assets(CAPACITY_RUNS),
        partitions_def=scenario_partitions(),
        description="Simulate one scenario (a partition) of the plant over the planning horizon.",
    )
    return dg.Definitions(jobs=[job])
