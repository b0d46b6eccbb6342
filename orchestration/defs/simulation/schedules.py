"""The nightly scenario batch, in plant time."""

import dagster as dg

from orchestration.defs.simulation.partitions import SCENARIO_BATCH_JOB, scenario_ids
from twin.plant.timezone import plant_timezone


@dg.definitions
def nightly() -> dg.Definitions:
    # The scenario set and the plant's clock are read when the code location loads, not at import.
    ids = scenario_ids()

    @dg.schedule(
        job_name=SCENARIO_BATCH_JOB,
        cron_schedule="0 2 * * *",
        execution_timezone=plant_timezone(),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        name="nightly_scenario_schedule",
    )
    def nightly_scenario_schedule(context: dg.ScheduleEvaluationContext):
        """Every night at 02:00 plant time: one run per scenario, so they simulate in parallel."""
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return [dg.RunRequest(run_key=f"{day}-{sid}", partition_key=sid) for sid in ids]

    return dg.Definitions(schedules=[nightly_scenario_schedule])
