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
    minimum_interval_seconds=15,
    description="Refreshes KPIs, features, risk scores, scenarios and the publication after new data.",
)
