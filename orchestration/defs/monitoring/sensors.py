"""Run failures are logged and posted to the alert webhook, with nobody watching the UI."""

import dagster as dg

from orchestration.lib.alerts import report_run_failure
from orchestration.lib.resources import TwinHome


@dg.run_failure_sensor(
    name="run_failure_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every failed run is written to $TWIN_HOME/logs/run_failures.jsonl and posted to "
    "$TWIN_ALERT_WEBHOOK when it is set.",
)
def run_failure_alerts(context: dg.RunFailureSensorContext, twin: TwinHome) -> None:
    run = context.dagster_run
    error = context.failure_event.message or "no error message"
    problem = report_run_failure(twin.paths, run.job_name, run.run_id, error)
    if problem:
        context.log.warning(problem)
