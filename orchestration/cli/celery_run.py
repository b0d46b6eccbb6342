"""Runs whose steps go to the Celery workers (`twin workers`, TWIN_CELERY_BROKER), from `twin run`.

``execute_in_process`` always runs steps in the caller's process, so `twin run` hands such jobs to
``dg.execute_job`` with a reconstructable job: the workers rebuild it from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import dagster as dg

from twin import settings


@cache
def _code_location(*_environment: object) -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def code_location_job(job_name: str) -> dg.JobDefinition:
    """A job of the code location as this process's environment defines it: the reconstructor
    Celery workers call (once per environment, not once per step)."""
    environment = (settings.twin_home(), settings.plant_file(), settings.scenarios_dir())
    return _code_location(*map(str, environment)).resolve_job_def(job_name)


def execute_on_workers(
    job_name: str,
    instance: dg.DagsterInstance,
    *,
    partition_key: str | None = None,
    run_config: Mapping | None = None,
):
    """Run ``job_name`` in this process with its steps on the Celery workers; a context manager
    yielding the run's result (``execute_in_process`` always runs steps in-process)."""
    job = dg.build_reconstructable_job(
        "orchestration.cli.celery_run", "code_location_job", reconstructable_args=(job_name,)
    )
    tags = {"dagster/partition": partition_key} if partition_key else None
    return dg.execute_job(job, instance, run_config=run_config, tags=tags)
