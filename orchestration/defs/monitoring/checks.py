"""Publication freshness: by 06:00 plant time the planning tables are at most a day old."""

import datetime as dt
import warnings

import dagster as dg

from twin.plant.timezone import plant_timezone

PLANNING_TABLES = dg.AssetKey(["published", "planning_tables"])
# The nightly scenario batch starts at 02:00 plant time; by 06:00 (before the planners' day) the
# tables must have been published within the last day, else the check fails on the asset.
FRESHNESS_DEADLINE_CRON = "0 6 * * *"
FRESHNESS_MAX_AGE = dt.timedelta(hours=24)


@dg.definitions
def publication_freshness() -> dg.Definitions:
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
    return dg.Definitions(asset_checks=freshness, sensors=[freshness_sensor])
