"""The demand plan against the simulated capacity: ``capacity_feasibility`` (DESIGN §3.5).

Units. A line's simulated output counts parts of the product mix the scenario ran (its shares).
A demand for other products takes other time: each product's demand is converted into hours at the
line's constraint for that product (the station with the lowest ideal rate for it, its parallel
machines counted), and those hours back into units of the simulated mix at the constraint's mix
rate. ``mix_factor`` = simulated-mix units per demanded unit, so a replication meets the week's
demand when its output >= sum(quantity x mix_factor). The published capacity is then expressed in
units of the demand's own mix: simulated output / (sum of mix-equivalent demand / demanded units).

P(meet demand) is the share of replications (each a whole simulated week of the line) whose
output reaches the demand: counted, not read off a normal approximation of P10/P90.

Which lines. A demand row naming its line stays there. Without a line, the product's demand is
split over the lines that can make it, in proportion to their ideal rate for it at the constraint
(what each line could make of it in the same time); the row says how much of its demand came from
such a split (``split_demand_units``). Weeks outside the simulated horizon, and the horizon's partial
first week (the part of it already produced is not known here), get no row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from twin.plant.calendar import day_window, local_date_of
from twin.plant.model import Plant
from twin.simulation.line_model import LineParams, SimulationResult

STATUS_FEASIBLE = 0.9  # P(meet) from here up: feasible
STATUS_AT_RISK = 0.5  # from here up to STATUS_FEASIBLE: at risk; below: infeasible
# capacity_feasibility as the simulation writes it: the published columns without publication_id
FEASIBILITY_COLUMNS = [
    "site_id",
    "line_id",
    "bucket_grain",
    "bucket_start",
    "bucket_end",
    "scenario_id",
    "plan_version",
    "demand_units",
    "capacity_units_p10",
    "capacity_units_p50",
    "capacity_units_p90",
    "p_meet_demand",
    "shortfall_units_p50",
    "load_ratio_p50",
    "status",
    "assumed_capacity_units",
    "gap_vs_assumed_pct",
    "split_demand_units",
]


def status_of(p_meet: float) -> str:
    if p_meet >= STATUS_FEASIBLE:
        return "feasible"
    return "at_risk" if p_meet >= STATUS_AT_RISK else "infeasible"


def constraint_rates(plant: Plant, line: LineParams) -> tuple[dict[str, float], float]:
    """(ideal units/h at the line's constraint per product it can make, the same for its mix).

    A station's rate for a product is its machines' summed ideal rates (scenario-added machines
    included through ``line.counts``); the constraint is the slowest station.
    """
    plant_line = next(x for x in plant.lines if x.id == line.id)
    per_product = {
        product: plant_line.constraint_rate_per_h(product, line.counts)
        for product in plant_line.products
    }
    mix = min(m.rate_per_h * c for m, c in zip(line.machines, line.counts, strict=True))
    return per_product, mix


def assign_demand(plant: Plant, lines: dict[str, LineParams], demand: pd.DataFrame) -> pd.DataFrame:
    """Demand per line, week and product in demanded and in mix-equivalent units.

    ``demand``: the current plan (``staging.stg_planning__demand_plan``: plan_version, product_id,
    week_start, demand_units, line_id). Returns line_id, week_start, plan_version, product_id,
    demand_units, mix_units, split (bool: from a row without a line).
    """
    rates = {line_id: constraint_rates(plant, line) for line_id, line in lines.items()}
    rows = []
    for r in demand.itertuples(index=False):
        named = r.line_id if isinstance(r.line_id, str) and r.line_id else None
        able = {
            line_id: per[r.product_id]
            for line_id, (per, _) in rates.items()
            if r.product_id in per and (named is None or line_id == named)
        }
        total_rate = sum(able.values())
        for line_id, rate in able.items():
            share = 1.0 if named else rate / total_rate
            units = float(r.demand_units) * share
            rows.append(
                {
                    "line_id": line_id,
                    "week_start": pd.Timestamp(r.week_start).date(),
                    "plan_version": r.plan_version,
                    "product_id": r.product_id,
                    "demand_units": units,
                    # hours at the constraint for this product, in units of the simulated mix
                    "mix_units": units / rate * rates[line_id][1],
                    "split": named is None,
                }
            )
    columns = [
        "line_id",
        "week_start",
        "plan_version",
        "product_id",
        "demand_units",
        "mix_units",
        "split",
    ]
    return pd.DataFrame(rows, columns=columns)


def weekly_output(
    plant: Plant, result: SimulationResult, start: dt.datetime
) -> tuple[list[dt.date], np.ndarray, list[bool]]:
    """(week Mondays, good output per replication and week (R, W), whether each week is whole).

    ``result`` has day buckets from ``start`` (naive UTC); a week is whole when the horizon holds
    all seven of its days from its local midnight on.
    """
    edges = np.asarray(result.bucket_edges)
    dates = [local_date_of(plant, start + dt.timedelta(hours=float(e))) for e in edges[:-1]]
    mondays = sorted({d - dt.timedelta(days=d.weekday()) for d in dates})
    index = {m: i for i, m in enumerate(mondays)}
    agg = np.zeros((len(dates), len(mondays)))
    for i, d in enumerate(dates):
        agg[i, index[d - dt.timedelta(days=d.weekday())]] = 1.0
    starts_at_midnight = day_window(plant, dates[0]).start >= start
    whole = [
        bool(n == 7) and (monday > dates[0] or starts_at_midnight)
        for monday, n in zip(mondays, agg.sum(axis=0), strict=True)
    ]
    return mondays, result.output @ agg, whole


def capacity_feasibility(
    plant: Plant,
    lines: dict[str, LineParams],
    results: dict[str, SimulationResult],
    start: dt.datetime,
    demand: pd.DataFrame | None,
    scenario_id: str,
    *,
    assumed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``capacity_feasibility`` rows of one scenario (module docstring); empty without demand.

    ``results``: the scenario's simulated lines, day buckets from ``start`` (naive UTC).
    ``assumed``: ``staging.stg_planning__assumed_capacity`` (resource_id, bucket_start,
    assumed_capacity_units), used for line resources.
    """
    if demand is None or demand.empty:
        return pd.DataFrame(columns=FEASIBILITY_COLUMNS)
    assigned = assign_demand(plant, lines, demand)
    assumed_by = {}
    if assumed is not None and len(assumed):
        assumed_by = {
            (str(r.resource_id), pd.Timestamp(r.bucket_start).date()): float(
                r.assumed_capacity_units
            )
            for r in assumed.itertuples(index=False)
        }
    rows = []
    for line_id, result in results.items():
        mondays, output, whole = weekly_output(plant, result, start)
        mine = assigned[assigned["line_id"] == line_id]
        for w, monday in enumerate(mondays):
            week = mine[mine["week_start"] == monday]
            if not whole[w] or week.empty:
                continue
            demanded = float(week["demand_units"].sum())
            needed = float(week["mix_units"].sum())
            samples = output[:, w]
            # simulated-mix units per demanded unit; 1 when nothing is demanded
            factor = needed / demanded if demanded > 0 else 1.0
            capacity = samples / factor
            p10, p50, p90 = np.quantile(capacity, [0.1, 0.5, 0.9])
            p_meet = float(np.mean(samples >= needed - 1e-9))
            assumed_units = assumed_by.get((line_id, monday))
            rows.append(
                {
                    "site_id": plant.site.id,
                    "line_id": line_id,
                    "bucket_grain": "week",
                    "bucket_start": monday,
                    "bucket_end": monday + dt.timedelta(days=7),
                    "scenario_id": scenario_id,
                    "plan_version": str(week["plan_version"].iloc[0]),
                    "demand_units": demanded,
                    "split_demand_units": float(week.loc[week["split"], "demand_units"].sum()),
                    "capacity_units_p10": float(p10),
                    "capacity_units_p50": float(p50),
                    "capacity_units_p90": float(p90),
                    "p_meet_demand": p_meet,
                    "shortfall_units_p50": max(demanded - float(p50), 0.0),
                    "load_ratio_p50": demanded / float(p50) if p50 > 0 else None,
                    "status": status_of(p_meet),
                    "assumed_capacity_units": assumed_units,
                    "gap_vs_assumed_pct": (float(p50) - assumed_units) / assumed_units * 100
                    if assumed_units
                    else None,
                }
            )
    return pd.DataFrame(rows, columns=FEASIBILITY_COLUMNS)
