"""The weekly retraining schedule, in plant time."""

import dagster as dg

from orchestration.defs.ml import jobs
from twin.plant.timezone import plant_timezone


@dg.definitions
def schedules() -> dg.Definitions:
    # Built when the code location loads: the plant's clock decides what "Monday 03:00" means.
    weekly = dg.ScheduleDefinition(
        name="weekly_failure_model_schedule",
        job=jobs.failure_model_retrain_job,
        cron_schedule="0 3 * * 1",
        execution_timezone=plant_timezone(),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Retrain the failure-risk model every Monday at 03:00 plant time.",
    )
    return dg.Definitions(schedules=[weekly])
