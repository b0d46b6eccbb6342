"""The nightly scenario batch: every scenario is a partition, simulated in parallel."""

import dagster as dg
import pandas as pd

from orchestration.defs.simulation.partitions import CAPACITY_RUNS, scenario_partitions
from orchestration.lib.conditions import refresh_after_new_data
from orchestration.lib.metadata_plots import feasibility_chart, markdown_image
from orchestration.lib.resources import TwinHome
from twin.publish.connectors import BASELINE_SCENARIO
from twin.publish.inputs import write_input
from twin.simulation.history import planning_start, read_history
from twin.simulation.scenario_run import simulate_scenario
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
        """Monte Carlo of every line for one scenario from the last data time over the rest of the week and 13 more: P10/P50/P90 capacity per line, machine, day and week (the baseline also without the risk scores, to show what the prediction changed)."""
        plant = twin.plant()
        scenario = next(
            s
            for s in load_scenarios(scenario_folder_for(twin.plant_file), plant)
            if s.id == context.partition_key
        )
        history = read_history(twin.paths)
        start = planning_start(plant, history)
        # the plan of record also runs without the risk scores: what the prediction changed
        out = simulate_scenario(
            plant,
            scenario,
            history,
            start,
            with_effect=scenario.id == BASELINE_SCENARIO,
            # the batch's scenarios share one calibration of the history (the first run's)
            calibration_cache=twin.paths.calibrations,
        )
        capacity, constraints, effect = out.capacity, out.constraints, out.effect
        stamp = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("us")
        capacity = capacity.assign(run_id=context.run_id, simulated_at=stamp)
        write_input(twin.paths, "capacity_runs", capacity, f"{scenario.id}.parquet")
        write_input(twin.paths, "constraint_map", constraints, f"{scenario.id}.parquet")
        if effect is not None:
            write_input(twin.paths, "prediction_effect", effect, f"{scenario.id}.parquet")
        # always written (empty without a plan), so a withdrawn plan leaves no stale rows behind
        write_input(twin.paths, "capacity_feasibility", out.feasibility, f"{scenario.id}.parquet")
        weekly = capacity[
            (capacity["resource_level"] == "line")
            & (capacity["bucket_grain"] == "week")
            & ~capacity["is_partial"]  # the rest of the current week would pull the mean down
        ]
        p50 = weekly[weekly["quantile"] == "p50"].groupby("line_id")["capacity_units"].mean()
        return dg.MaterializeResult(
            metadata={
                "scenario": scenario.description,
                "horizon_start_utc": str(start),
                "replications": scenario.replications,
                "rows": len(capacity),
                **{f"p50_units_per_week_{line}": float(v) for line, v in p50.items()},
                **_effect_metadata(effect),
                **_feasibility_metadata(out.feasibility),
            }
        )

    return capacity_runs


def _effect_metadata(effect: pd.DataFrame | None) -> dict:
    """The first week's P50 difference per line (with risk vs. history-only), as a share."""
    if effect is None or effect.empty:
        return {}
    first = effect.sort_values("bucket_start").groupby("line_id").head(1)
    return {
        f"prediction_effect_first_week_{r.line_id}": float(r.p50_difference_share)
        for r in first.itertuples()
        if pd.notna(r.p50_difference_share)
    }


def _feasibility_metadata(feasibility: pd.DataFrame) -> dict:
    """Weeks of the current demand plan per status, and the weekly chart of demand against P50."""
    if feasibility.empty:
        return {"demand_plan": "none landed"}
    counts = feasibility["status"].value_counts()
    table = feasibility.sort_values(["line_id", "bucket_start"])[
        ["line_id", "bucket_start", "demand_units", "capacity_units_p50", "p_meet_demand", "status"]
    ]
    return {
        "plan_version": str(feasibility["plan_version"].iloc[0]),
        **{f"weeks_{s}": int(counts.get(s, 0)) for s in ("feasible", "at_risk", "infeasible")},
        "feasibility": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".2f")),
        **_chart(feasibility),
    }


def _chart(feasibility: pd.DataFrame) -> dict:
    figure = feasibility_chart(feasibility)
    if figure is None:
        return {}
    return {"feasibility_chart": dg.MetadataValue.md(markdown_image(figure, "demand vs capacity"))}


@dg.definitions
def simulation() -> dg.Definitions:
    return dg.Definitions(assets=[build_simulation(scenario_partitions())])
