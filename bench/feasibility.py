"""Benchmark of the feasibility step (not a test): ``python bench/feasibility.py [--replications N]``.

The nightly batch of the seed's size: the synthetic plant (12 lines x 6 machines, two shifts Mon-Fri),
the shipped generic scenarios (6) x 500 replications x 13 weeks, no history (the priors stand in), a
demo demand plan over the 13 weeks. Per scenario it times, in the same run, the parameters, the
Monte Carlo, the capacity tables and ``capacity_feasibility``, and prints the totals and the
feasibility step's share of the scenario runs' own time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import pandas as pd

from twin.plant.synthetic import synthetic_plant
from twin.simulation.capacity import capacity_tables, simulate_lines
from twin.simulation.feasibility import capacity_feasibility
from twin.simulation.line_params import build_line_params
from twin.simulation.scenarios import SHIPPED, load_scenarios
from twin.virtual_plant.demand_plan import demand_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=500)
    args = parser.parse_args()
    plant = synthetic_plant(12, 6, 0, 5.0)
    monday = dt.date(2027, 1, 4)
    start = dt.datetime(2027, 1, 3, 23)  # Monday 00:00 in Berlin
    scenarios = load_scenarios(SHIPPED, plant)
    plan = demand_plan(plant, monday, weeks=13).assign(
        week_start=lambda f: pd.to_datetime(f["bucket_start"]).dt.date,
        demand_units=lambda f: f["quantity"].astype(float),
        line_id=lambda f: f["line_id"].replace("", None),
    )
    seconds = {"params": 0.0, "simulate": 0.0, "capacity_tables": 0.0, "feasibility": 0.0}
    rows = 0
    for sc in scenarios:
        sc = sc.model_copy(update={"replications": args.replications, "horizon_weeks": 13})
        t0 = time.perf_counter()
        lines = build_line_params(plant, None, None, None, sc, start)
        t1 = time.perf_counter()
        results = simulate_lines(lines, sc.replications, sc.seed)
        t2 = time.perf_counter()
        capacity_tables(plant, lines, results, sc.id, start)
        t3 = time.perf_counter()
        rows += len(capacity_feasibility(plant, lines, results, start, plan, sc.id))
        t4 = time.perf_counter()
        for k, v in zip(seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            seconds[k] += v
    runs = seconds["params"] + seconds["simulate"] + seconds["capacity_tables"]
    print(
        f"{len(scenarios)} scenarios x {args.replications} replications x 13 weeks, "
        f"{len(plant.lines)} lines: {rows} feasibility rows"
    )
    for k, v in seconds.items():
        print(f"  {k:16s} {v:8.2f} s")
    print(f"  feasibility / scenario runs: {seconds['feasibility'] / runs:.1%}")


if __name__ == "__main__":
    main()
