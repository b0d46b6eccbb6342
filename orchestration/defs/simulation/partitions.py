"""Scenario partitions: one per scenario file that fits the plant, read when the code location loads."""

import dagster as dg

from twin import settings
from twin.paths import plant_path
from twin.plant.model import load_plant
from twin.simulation.scenarios import load_scenarios

CAPACITY_RUNS = dg.AssetKey(["simulation", "capacity_runs"])
SCENARIO_BATCH_JOB = "scenario_batch_job"


def scenario_ids() -> list[str]:
    """The scenario set in force (TWIN_SCENARIOS or the shipped set), never read at import."""
    return [s.id for s in load_scenarios(settings.scenarios_dir(), load_plant(plant_path()))]


def scenario_partitions() -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(scenario_ids())
