"""Watching the deployed twin: publication freshness against the planning cadence, run failures."""

import datetime as dt
import warnings

import dagster as dg

from orchestration.lib.alerts import report_run_failure
from orchestration.lib.resources import TwinHome
from twin.plant.timezone import plant_timezone

PLANNING_TABLES = dg.AssetKey(["published", "planning_tables"])
# The nightly scenario batch starts at 02:00 plant time; by 06:00 (before the planners' day) the
# tables must have been published within the last day, else the check fails on the asset.
FRESHNESS_DEADLINE_CRON = "0 6 * * *"
FRESHNESS_MAX_AGE = dt.timedelta(hours=24)


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


@dg.definitions
def monitoring() -> dg.Definitions:
    # Freshness as an asset check rather than a FreshnessPolicy (which Dagster now prefers): a
    # check keeps a pass/fail history on the asset next to its contract checks, and its
    # evaluation can be tested in process. The plant's time zone is read at load, not import.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        freshness = dg.build_last_update_freshness_checks(
            assets=[PLANNING_TABLES],
            deadline_cron=FRESHNESS_DEADLINE_CRON,
            lower_bound_delta=FRESHNESS_MAX_AGE,
            timezone=plant_timezone(),
            severity=dg.AssetCheckSeverity.ERROR,
        )
        freshness_sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=freshness,
            name="publication_freshness_sensor",
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    return dg.Definitions(asset_checks=freshness, sensors=[freshness_sensor, run_failure_alerts])
