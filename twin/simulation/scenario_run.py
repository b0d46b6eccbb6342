"""One scenario from history to capacity tables: parameters → Monte Carlo → capacity_supply rows.

Dagster-free: the simulation asset reads the history (KPI marts, failure events, work orders, MES
product mix, failure-risk scores) and calls ``run_scenario`` once per scenario partition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from twin.plant.calendar import local_date_of
from twin.plant.model import Plant
from twin.simulation.capacity import capacity_tables, simulate_lines
from twin.simulation.line_params import build_line_params
from twin.simulation.scenarios import Scenario


@dataclass(frozen=True)
class History:
    """What the twin has learnt about the plant, as frames (any may be empty)."""

    kpis: pd.DataFrame | None = None
    failures: pd.DataFrame | None = None
    risk: pd.DataFrame | None = None
    work_orders: pd.DataFrame | None = None
    mix: pd.DataFrame | None = None


def horizon_start(plant: Plant, last_data_utc: dt.datetime) -> dt.datetime:
    """Monday 00:00 site time after the last data: planning weeks start on Monday (DESIGN §3.4)."""
    last_day = local_date_of(plant, last_data_utc)
    monday = last_day + dt.timedelta(days=7 - last_day.weekday())
    local = dt.datetime.combine(monday, dt.time()).replace(tzinfo=plant.tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def run_scenario(
    plant: Plant, scenario: Scenario, history: History, start: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(capacity_supply, constraint_map) rows for one scenario over its horizon from ``start``."""
    lines = build_line_params(
        plant,
        history.kpis,
        history.failures,
        history.risk,
        scenario,
        start,
        work_orders=history.work_orders,
        mix=history.mix,
    )
    results = simulate_lines(lines, scenario.replications, scenario.seed)
    return capacity_tables(plant, lines, results, scenario.id, start)
