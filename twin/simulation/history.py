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


# Where the data ends: the last MES interval's end (states are booked as closed intervals, so this
# is the time up to which the plant's state is known); the risk scores are issued at that time too.
LAST_DATA_SQL = """
select max(ended_at) from staging.stg_mes__machine_states
"""


# The planning system's inputs (DESIGN §3.5): the current demand plan and the assumed capacity.
PLANNING_TABLES = {
    "demand": "staging.stg_planning__demand_plan",
    "assumed": "staging.stg_planning__assumed_capacity",
}


def read_history(paths: TwinPaths) -> History:
    with warehouse.connect(paths) as connection:
        built = {
            f"{schema}.{name}"
            for schema, name in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        # a warehouse built before the planning sources existed has no such tables: no plan yet
        planning = {
            key: connection.execute(f"select * from {table}").df() if table in built else None
            for key, table in PLANNING_TABLES.items()
        }
        frames = {
            "kpis": connection.execute("select * from marts.fct_machine_kpis_daily").df(),
            "failures": connection.execute("select * from marts.fct_failure_events").df(),
            "work_orders": connection.execute("select * from staging.stg_cmms__work_orders").df(),
            "mix": connection.execute(MIX_SQL).df(),
        }
        last = connection.execute(LAST_DATA_SQL).fetchone()[0]
    risk_file = paths.lake / "ml" / "machine_failure_risk.parquet"
    risk = pd.read_parquet(risk_file) if risk_file.exists() else None
    return History(risk=risk, last_data_at=last, **frames, **planning)


def planning_start(plant: Plant, history: History) -> dt.datetime:
    """Where the planning horizon begins (naive UTC): the last data time.

    That is the end of the last MES state interval; without MES states (historian and CMMS only,
    DESIGN §3.3) the end of the last day with KPIs, never later than that day's end.
    """
    if history.kpis is None or history.kpis.empty:
        raise ValueError("no KPI history yet: the scenario batch needs at least one loaded day")
    last_day = pd.to_datetime(history.kpis["date"]).max().date()
    day_end = day_window(plant, last_day).end
    last = history.last_data_at
    last = min(pd.Timestamp(last).to_pydatetime(), day_end) if pd.notna(last) else day_end
    return horizon_start(plant, last)
