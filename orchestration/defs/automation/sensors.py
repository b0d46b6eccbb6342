"""Declarative automation, on from the daemon's first tick: new data flows to the published tables.

Each asset's condition (orchestration/lib/conditions.py) says when it refreshes; this sensor
evaluates them all. A file dropped into landing becomes a batch load (landing_files_sensor), then
KPIs and features (dbt), risk scores, the scenario batch, and a new publication, with nobody acting.
"""

import dagster as dg

twin_automation_sensor = dg.AutomationConditionSensorDefinition(
    "twin_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    # each hop of the chain waits for a tick: short enough for minutes from file to publication,
    # long enough that evaluating ~230 assets and checks stays a small share of two cores
    minimum_interval_seconds=10,
    # one run per scenario straight to the run queue: as a backfill, the scenarios waited for the
    # backfill daemon's loop and so did the publication (a backfill in progress holds it back)
    emit_backfills=False,
    description="Refreshes KPIs, features, risk scores, scenarios and the publication after new data.",
)
