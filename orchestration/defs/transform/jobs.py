"""The KPI job: refresh the plant reference tables and rebuild the dbt models from the lake."""

import dagster as dg

kpi_job = dg.define_asset_job(
    "kpi_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["raw", "plant_model"]))
    | dg.AssetSelection.groups("staging", "intermediate", "marts"),
    description="Refresh the plant reference tables and rebuild the KPI marts from the lake.",
)
