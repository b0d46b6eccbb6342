"""twinbridge's Dagster code location: everything under orchestration/defs is loaded."""

from pathlib import Path

import dagster as dg

from orchestration.defs.executors import twin_executor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # Steps run in their run's process: a subprocess per step would load the code location
        # once more for each (seconds on two cores); runs still run side by side (dagster.yaml).
        # With TWIN_CELERY_BROKER set, the scenario batch and the batch loads run their steps on
        # Celery workers instead (orchestration/defs/executors.py).
        dg.Definitions(executor=twin_executor()),
    )
