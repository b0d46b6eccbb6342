"""The twin's history as the scenario engine needs it, read from the warehouse and the lake."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from twin import warehouse
from twin.paths import TwinPaths
from twin.plant.calendar import day_window
from twin.plant.model import Plant
from twin.simulation.scenario_run import History, horizon_start

# The product mix each line ran recently: what its last machine produced over the last 28 days.
MIX_SQL = """
with last_machines as (
    select line_id, machine_id from marts.dim_machines
    qualify row_number() over (partition by line_id order by flow_position desc) = 1
)
select m.line_id, p.product_id, sum(p.produced_qty) as qty
from staging.stg_mes__production_counts as p
join last_machines as m using (machine_id)
where p.started_at >= (select max(started_at) from staging.stg_mes__production_counts) - interval 28 day
group by all
"""


def read_history(paths: TwinPaths) -> History:
    with warehouse.connect(paths) as connection:
        frames = {
            "kpis": connection.execute("select * from marts.fct_machine_kpis_daily").df(),
            "failures": connection.execute("select * from marts.fct_failure_events").df(),
            "work_orders": connection.execute("select * from staging.stg_cmms__work_orders").df(),
            "mix": connection.execute(MIX_SQL).df(),
        }
    risk_file = paths.lake / "ml" / "machine_failure_risk.parquet"
    risk = pd.read_parquet(risk_file) if risk_file.exists() else None
    return History(risk=risk, **frames)


def planning_start(plant: Plant, history: History) -> dt.datetime:
    """The Monday after the last day with data (naive UTC): where the planning horizon begins."""
    if history.kpis is None or history.kpis.empty:
        raise ValueError("no KPI history yet: the scenario batch needs at least one loaded day")
    last_day = pd.to_datetime(history.kpis["date"]).max().date()
    return horizon_start(plant, day_window(plant, last_day).start + dt.timedelta(hours=12))
