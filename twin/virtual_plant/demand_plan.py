"""A demand plan for a plant, as a planning system would land it (DESIGN §3.5): for the demo.

Each line's weekly demand is what it made per shift hour in the history (``made_per_shift_hour``,
e.g. from the generator's report), or else what it could make at its constraint's ideal rate times
``DEMO_EFFICIENCY``, through the week's shifts (holidays off), times a load factor that moves from
week to week around 1: some weeks well inside capacity, some beyond it, so feasibility has
something to say.
A product more than one line can make is planned without a line (the twin splits it by ideal
rates; the total is sized so that no line's share exceeds what it could take); a product only one
line makes names that line. Deterministic for a (plant, first week, seed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from statistics import fmean

import numpy as np
import pandas as pd

from twin.plant.calendar import shift_hours
from twin.plant.model import Plant
from twin.virtual_plant.landing_files import write_csv

# Without a history: good output over ideal output through the shifts assumed for every line
# (availability, speed, scrap and starving together).
DEMO_EFFICIENCY = 0.6
# Load per week, repeated: below 0.9 a line makes it, around 1 it is at risk, beyond 1.05 it is not
# (unless a scenario adds capacity, e.g. a Saturday shift).
LOAD_PROFILE = (0.85, 0.95, 1.1, 0.9, 1.2, 0.8, 1.0, 1.15, 0.9, 0.95, 1.25, 0.85, 1.0)


def made_per_shift_hour(
    plant: Plant, good_units: Mapping[str, float], first: dt.date, last: dt.date
) -> dict[str, float]:
    """Good units per shift hour of each line over the days ``first``..``last`` (inclusive)."""
    hours = shift_hours(plant, first, last)
    if hours <= 0:
        return {}
    return {line: units / hours for line, units in good_units.items()}


def demand_plan(
    plant: Plant,
    first_week: dt.date,
    weeks: int = 13,
    seed: int = 7,
    per_shift_hour: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Rows plan_version, product_id, bucket_start, quantity, line_id (empty when split).

    ``per_shift_hour``: a line's good units per shift hour in its history; lines missing from it
    are sized on their constraint's ideal rate times ``DEMO_EFFICIENCY``."""
    if first_week.weekday() != 0:
        raise ValueError(f"a weekly plan starts on a Monday, not on {first_week:%A} {first_week}")
    rng = np.random.default_rng([seed, first_week.toordinal()])
    makers: dict[str, list[str]] = {}
    for line in plant.lines:
        for product in line.products:
            makers.setdefault(product, []).append(line.id)
    version = f"demo-{first_week.isoformat()}"
    rows = []
    for w in range(weeks):
        monday = first_week + dt.timedelta(weeks=w)
        hours = shift_hours(plant, monday, monday + dt.timedelta(days=6))
        load = LOAD_PROFILE[w % len(LOAD_PROFILE)] * float(rng.uniform(0.97, 1.03))
        demand: dict[tuple[str, str | None], float] = {}
        shared: dict[str, dict[str, float]] = {}  # product -> line -> units the line could take
        for line in plant.lines:
            products = line.products
            rate = (per_shift_hour or {}).get(line.id)
            if rate is None:  # the constraint's ideal rate, at an even mix of the products
                rate = fmean(line.constraint_rate_per_h(p) for p in products) * DEMO_EFFICIENCY
            units = hours * rate * load
            for p in products:
                if len(makers[p]) > 1:
                    shared.setdefault(p, {})[line.id] = units / len(products)
                else:
                    demand[(p, line.id)] = demand.get((p, line.id), 0.0) + units / len(products)
        for p, takes in shared.items():
            demand[(p, None)] = _shared_demand(plant, p, takes)
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
    plant: Plant,
    landing: Path,
    first_week: dt.date,
    weeks: int = 13,
    seed: int = 7,
    per_shift_hour: Mapping[str, float] | None = None,
) -> Path:
    """Land the plan as ``landing/demand_plan/demand_plan_<first week>.csv`` (atomically)."""
    frame = demand_plan(plant, first_week, weeks, seed, per_shift_hour)
    return write_csv(
        frame, Path(landing) / "demand_plan" / f"demand_plan_{first_week.isoformat()}.csv"
    )


def _shared_demand(plant: Plant, product: str, takes: Mapping[str, float]) -> float:
    """Demand for a product several lines make, planned without a line: the twin splits it in
    proportion to each line's ideal rate for it at the constraint (twin.simulation.feasibility),
    so the total is the largest that gives no line more than it could take."""
    rates = {
        line.id: line.constraint_rate_per_h(product) for line in plant.lines if line.id in takes
    }
    total_rate = sum(rates.values())
    return min(takes[line] * total_rate / rate for line, rate in rates.items())
