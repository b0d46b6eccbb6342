"""A demand plan for a plant, as a planning system would land it (DESIGN §3.5): for the demo.

Each line's weekly demand is what it could make at its constraint's ideal rate through the week's
shifts (holidays off), times ``DEMO_EFFICIENCY``, times a load factor that moves from week to week
around 1: some weeks well inside capacity, some beyond it, so feasibility has something to say.
A product more than one line can make is planned without a line (the twin splits it); a product
only one line makes names that line. Deterministic for a (plant, first week, seed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from twin.plant.calendar import shift_windows
from twin.plant.model import Plant
from twin.virtual_plant.landing_files import write_csv

# Simulated good output over ideal output through the shifts, about 0.6 on the demo plant's lines
# (availability, speed, scrap and starving together): the plan is sized against it.
DEMO_EFFICIENCY = 0.6
# Load per week, repeated: below 0.9 a line makes it, around 1 it is at risk, beyond 1.05 it is not
# (unless a scenario adds capacity, e.g. a Saturday shift).
LOAD_PROFILE = (0.85, 0.95, 1.1, 0.9, 1.2, 0.8, 1.0, 1.15, 0.9, 0.95, 1.25, 0.85, 1.0)


def demand_plan(plant: Plant, first_week: dt.date, weeks: int = 13, seed: int = 7) -> pd.DataFrame:
    """Rows plan_version, product_id, bucket_start, quantity, line_id (empty when split)."""
    if first_week.weekday() != 0:
        raise ValueError(f"a weekly plan starts on a Monday, not on {first_week:%A} {first_week}")
    rng = np.random.default_rng([seed, first_week.toordinal()])
    makers: dict[str, list[str]] = {}
    for line in plant.lines:
        for product in _products(line):
            makers.setdefault(product, []).append(line.id)
    version = f"demo-{first_week.isoformat()}"
    rows = []
    for w in range(weeks):
        monday = first_week + dt.timedelta(weeks=w)
        hours = sum(
            (x.end - x.start).total_seconds() / 3600
            for x in shift_windows(plant, monday, monday + dt.timedelta(days=6))
        )
        load = LOAD_PROFILE[w % len(LOAD_PROFILE)] * float(rng.uniform(0.97, 1.03))
        demand: dict[tuple[str, str | None], float] = {}
        for line in plant.lines:
            products = _products(line)
            # the constraint: the slowest machine at the products' mean cycle time
            cycle = max(
                float(np.mean([m.ideal_cycle_time_s[p] for p in products])) for m in line.machines
            )
            units = hours * 3600 / cycle * DEMO_EFFICIENCY * load
            for p in products:
                target = None if len(makers[p]) > 1 else line.id
                demand[(p, target)] = demand.get((p, target), 0.0) + units / len(products)
        rows += [
            {
                "plan_version": version,
                "product_id": p,
                "bucket_start": monday.isoformat(),
                "quantity": round(q),
                "line_id": line_id or "",
            }
            for (p, line_id), q in sorted(demand.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        ]
    return pd.DataFrame(
        rows, columns=["plan_version", "product_id", "bucket_start", "quantity", "line_id"]
    )


def write_demand_plan(
    plant: Plant, landing: Path, first_week: dt.date, weeks: int = 13, seed: int = 7
) -> Path:
    """Land the plan as ``landing/demand_plan/demand_plan_<first week>.csv`` (atomically)."""
    frame = demand_plan(plant, first_week, weeks, seed)
    return write_csv(
        frame, Path(landing) / "demand_plan" / f"demand_plan_{first_week.isoformat()}.csv"
    )


def _products(line) -> list[str]:
    """The products every machine of the line has a cycle time for (what the line can make)."""
    return sorted(set.intersection(*(set(m.ideal_cycle_time_s) for m in line.machines)))
