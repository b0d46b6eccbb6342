"""One scenario from history to capacity tables: parameters → Monte Carlo → capacity_supply rows
(and, for the plan of record, the prediction's effect: ``twin.simulation.prediction_effect``).

Dagster-free: the simulation asset reads the history (KPI marts, failure events, work orders, MES
product mix, failure-risk scores) and calls ``run_scenario`` once per scenario partition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from twin.plant.model import Plant
from twin.simulation.capacity import capacity_tables, simulate_lines
from twin.simulation.feasibility import capacity_feasibility
from twin.simulation.line_params import build_line_params
from twin.simulation.prediction_effect import prediction_effect
from twin.simulation.scenarios import Scenario


@dataclass(frozen=True)
class History:
    """What the twin has learnt about the plant, as frames (any may be empty)."""

    kpis: pd.DataFrame | None = None
    failures: pd.DataFrame | None = None
    risk: pd.DataFrame | None = None
    work_orders: pd.DataFrame | None = None
    mix: pd.DataFrame | None = None
    last_data_at: dt.datetime | None = None  # naive UTC: where the plant's data ends
    demand: pd.DataFrame | None = None  # the current demand plan (stg_planning__demand_plan)
    assumed: pd.DataFrame | None = None  # the planning system's assumed capacity


def horizon_start(plant: Plant, last_data_utc: dt.datetime) -> dt.datetime:
    """The last data time, to the minute: the horizon starts where the data ends.

    Its first day and week are then partial (``twin.simulation.horizon``), so the latest failure-risk
    score, issued at the last data time, always applies to the first buckets; a horizon that waited
    for the next Monday dropped it on Mondays to Wednesdays (older than 72 h by then) and never
    simulated the days in between.
    """
    del plant  # the start no longer snaps to the plant's calendar; kept for the callers
    if last_data_utc.tzinfo is not None:
        last_data_utc = last_data_utc.astimezone(dt.UTC).replace(tzinfo=None)
    return last_data_utc.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class ScenarioOutputs:
    """Everything one scenario run publishes."""

    capacity: pd.DataFrame  # capacity_supply rows
    constraints: pd.DataFrame  # constraint_map rows
    feasibility: pd.DataFrame  # capacity_feasibility rows (empty without a demand plan)
    effect: pd.DataFrame | None = None  # prediction_effect rows (when asked for)


def run_scenario(
    plant: Plant, scenario: Scenario, history: History, start: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(capacity_supply, constraint_map) rows for one scenario over its horizon from ``start``."""
    out = simulate_scenario(plant, scenario, history, start)
    return out.capacity, out.constraints


def run_scenario_with_effect(
    plant: Plant, scenario: Scenario, history: History, start: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``run_scenario`` plus its ``prediction_effect`` rows (the same scenario without the risk)."""
    out = simulate_scenario(plant, scenario, history, start, with_effect=True)
    return out.capacity, out.constraints, out.effect


def simulate_scenario(
    plant: Plant,
    scenario: Scenario,
    history: History,
    start: dt.datetime,
    *,
    with_effect: bool = False,
    calibration_cache: Path | None = None,
) -> ScenarioOutputs:
    """One scenario's capacity, constraints and feasibility of the demand plan (and, with
    ``with_effect``, what the risk prediction changed). ``calibration_cache``: see
    ``build_line_params``."""
    lines = build_line_params(
        plant,
        history.kpis,
        history.failures,
        history.risk,
        scenario,
        start,
        work_orders=history.work_orders,
        mix=history.mix,
        calibration_cache=calibration_cache,
    )
    results = simulate_lines(lines, scenario.replications, scenario.seed)
    capacity, constraints = capacity_tables(plant, lines, results, scenario.id, start)
    feasibility = capacity_feasibility(
        plant, lines, results, start, history.demand, scenario.id, assumed=history.assumed
    )
    effect = prediction_effect(plant, scenario, lines, capacity, start) if with_effect else None
    return ScenarioOutputs(capacity, constraints, feasibility, effect)
