"""The nightly scenario batch: every scenario is a partition, simulated in parallel."""

import dagster as dg
import pandas as pd

from orchestration.defs.simulation.partitions import CAPACITY_RUNS, scenario_partitions
from orchestration.lib.conditions import refresh_after_new_data
from orchestration.lib.resources import TwinHome
from twin.publish.inputs import write_input
from twin.simulation.history import planning_start, read_history
from twin.simulation.scenario_run import run_scenario
from twin.simulation.scenarios import load_scenarios, scenario_folder_for


def build_simulation(partitions: dg.StaticPartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=CAPACITY_RUNS,
        group_name="simulation",
        partitions_def=partitions,
        deps=[
            dg.AssetKey(["marts", "fct_machine_kpis_daily"]),
            dg.AssetKey(["marts", "fct_failure_events"]),
            dg.AssetKey(["ml", "machine_failure_risk_scores"]),
        ],
        kinds={"numpy", "parquet"},
        owners=["team:planning"],
        # every scenario re-simulates once new KPIs or risk scores are in (and nightly, below)
        automation_condition=refresh_after_new_data(),
    )
    def capacity_runs(context: dg.AssetExecutionContext, twin: TwinHome) -> dg.MaterializeResult:
        """Monte Carlo of every line for one scenario over 13 weeks: P10/P50/P90 capacity per line, machine, day and week."""
        plant = twin.plant()
        scenario = next(
            s
            for s in load_scenarios(scenario_folder_for(twin.plant_file), plant)
            if s.id == context.partition_key
        )
        history = read_history(twin.paths)
        start = planning_start(plant, history)
        capacity, constraints = run_scenario(plant, scenario, history, start)
        stamp = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("us")
        capacity = capacity.assign(run_id=context.run_id, simulated_at=stamp)
        write_input(twin.paths, "capacity_runs", capacity, f"{scenario.id}.parquet")
        write_input(twin.paths, "constraint_map", constraints, f"{scenario.id}.parquet")
        weekly = capacity[
            (capacity["resource_level"] == "line") & (capacity["bucket_grain"] == "week")
        ]
        p50 = weekly[weekly["quantile"] == "p50"].groupby("line_id")["capacity_units"].mean()
        return dg.MaterializeResult(
            metadata={
                "scenario": scenario.description,
                "horizon_start_utc": str(start),
                "replications": scenario.replications,
                "rows": len(capacity),
                **{f"p50_units_per_week_{line}": float(v) for line, v in p50.items()},
            }
        )

    return capacity_runs


@dg.definitions
def simulation() -> dg.Definitions:
    return dg.Definitions(assets=[build_simulation(scenario_partitions())])
