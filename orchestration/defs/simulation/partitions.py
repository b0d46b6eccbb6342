"""Scenario partitions: one per scenario file that fits the plant, read when the code location loads."""

import dagster as dg

from twin.paths import plant_path
from twin.plant.model import load_plant
from twin.simulation.scenarios import load_scenarios, scenario_folder_for

CAPACITY_RUNS = dg.AssetKey(["simulation", "capacity_runs"])
SCENARIO_BATCH_JOB = "scenario_batch_job"


def scenario_ids() -> list[str]:
    """The scenario set in force (``scenario_folder_for`` the plant), never read at import."""
    plant_file = plant_path()
    return [s.id for s in load_scenarios(scenario_folder_for(plant_file), load_plant(plant_file))]


def scenario_partitions() -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(scenario_ids())
