"""Where a run's steps execute (DESIGN §3.7): in the run's own process, or on Celery workers.

``TWIN_CELERY_BROKER`` (a Redis URL) moves the steps of the scenario batch and the batch loads onto
dagster-celery's executor, with Redis as broker and result backend; every other job, and every job
while the variable is unset, runs its steps in the run's process as before. The choice is made when
a run starts, from the asset groups the job selects: the definitions are the same either way, and
neither run config nor the event log ever holds the broker URL (it may carry a password).

The steps of these jobs hand no outputs to each other: they write Parquet files under TWIN_HOME
and return only metadata. Workers therefore need the same TWIN_HOME (a shared filesystem), plant
model and scenarios as the process that starts the run, and the Dagster instance the run is in.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from dagster_celery import celery_executor
from dagster_celery.config import DEFAULT_CONFIG, dict_wrapper

from twin import settings

# The stages whose steps are independent CPU work (a scenario, a landing burst): worth a worker.
# dbt, the model and the publication stay in the run's process: dbt is the warehouse's only
# writer, and those runs are one step each, which a worker would only delay.
DISTRIBUTED_GROUPS = frozenset({"ingest", "simulation"})
CELERY_QUEUE = "dagster"  # the queue dagster-celery's app routes every step to
# Redis hands a task to another worker when the first has not acknowledged it within the
# visibility timeout. Steps are acknowledged when they end (a lost worker's step runs again), so
# the timeout must exceed the longest step: a scenario takes 5-80 s today; 4 h leaves room.
VISIBILITY_TIMEOUT_S = 4 * 3600


def celery_settings() -> dict:
    """Celery settings the run's executor and the workers share (they must agree)."""
    return {
        **DEFAULT_CONFIG,
        # one step per worker at a time and acknowledged at its end: an idle worker takes the
        # next scenario instead of a busy one holding it in its prefetch buffer
        "worker_prefetch_multiplier": 1,
        "task_acks_late": True,
        "broker_transport_options": {
            **DEFAULT_CONFIG["broker_transport_options"],
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
        },
        "result_backend_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT_S},
        "broker_connection_retry_on_startup": True,
    }


def celery_app_args(broker: str) -> dict:
    """The Celery app's arguments for ``broker``, as dagster-celery's executor builds them."""
    return {
        "broker": broker,
        "backend": broker,  # Redis is the result backend too: one server to run
        "include": [],
        "config_source": dict_wrapper(celery_settings()),
    }


def runs_on_celery(job: dg.JobDefinition) -> bool:
    """Whether ``job``'s steps go to the Celery workers: a broker is set and it selects only
    ingest or simulation assets."""
    if settings.celery_broker_url() is None:
        return False
    layer = job.asset_layer
    keys = layer.selected_asset_keys
    if not keys:
        return False
    return all(layer.asset_graph.get(key).group_name in DISTRIBUTED_GROUPS for key in keys)


def _requirements(_config: Mapping[str, object]) -> list[dg.ExecutorRequirement]:
    # Celery workers load the job from its code pointer and write into the run's instance, so a
    # run must be reconstructable and its instance persistent; in-process runs need neither.
    return dg.multiple_process_executor_requirements() if settings.celery_broker_url() else []


def _create_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    broker = settings.celery_broker_url()
    if broker and runs_on_celery(init_context.job.get_definition()):
        celery_context = dg.InitExecutorContext(
            job=init_context.job,
            executor_def=celery_executor,
            executor_config={
                "retries": init_context.executor_config["retries"],
                "broker": broker,
                "backend": broker,
                "include": [],
                "config_source": celery_settings(),  # the executor wraps it as the workers do
            },
            instance=init_context.instance,
        )
        return celery_executor.executor_creation_fn(celery_context)
    return dg.in_process_executor.executor_creation_fn(init_context)


def twin_executor() -> dg.ExecutorDefinition:
    """The executor of every job: in-process, or Celery for the distributed stages (above)."""
    return dg.ExecutorDefinition(
        name="twin",
        config_schema=dg.in_process_executor.config_schema,
        executor_creation_fn=_create_executor,
        requirements=_requirements,
        description="In the run's process; on Celery workers (TWIN_CELERY_BROKER) for the "
        "scenario batch and the batch loads.",
    )
