"""The plant model as reference tables the KPIs join against."""

import dagster as dg

from orchestration.lib.conditions import build_when_missing
from orchestration.lib.resources import TwinHome
from twin.files import write_plant_tables
from twin.plant.tables import plant_tables


@dg.asset(
    key=["raw", "plant_model"],
    group_name="ingest",
    kinds={"yaml", "parquet"},
    owners=["team:plant-data"],
    automation_condition=build_when_missing(),
)
def plant_model(twin: TwinHome) -> dg.MaterializeResult:
    """Lines, machines, tags, ideal cycle times and the shift calendar from the plant model file."""
    plant = twin.plant()
    tables = plant_tables(plant)
    write_plant_tables(twin.paths, tables)
    return dg.MaterializeResult(
        metadata={
            "plant_file": dg.MetadataValue.path(twin.plant_file),
            "site": plant.site.id,
            "lines": len(plant.lines),
            "machines": len(plant.machines),
            "tags": len(tables["tags"]),
        }
    )
