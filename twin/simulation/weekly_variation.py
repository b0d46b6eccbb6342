"""Week-to-week variation of a line's output beyond failures: fitted from the KPIs, drawn per week.

The engine's replications differ only in failures, repairs and changeover phase, so a line without
a failure in a week gets P10 = P50 = P90. A real line's weekly output also moves with its speed,
minor stops, idle, scrap and product mix: on the virtual plant the pacing machine's weekly good
output per running + idle hour varies by 2-4 % (coefficient of variation) from week to week.

Fit (``fit_weekly_cv``): per line, the machine whose ideal processing time fills the largest share
of its running + idle hours over the trailing weeks paces it (the least starved or blocked one,
whether the MES books waits as idle or inside running time: ``_pacing_machine``); its good output per
running + idle hour per complete site-local week (Monday-Sunday, at least ``MIN_WEEK_HOURS``), over
the ``WEEKS`` weeks before the horizon. Running + idle hours leave out downtime and setups, which
the engine simulates. The variance is shrunk towards ``PRIOR_CV`` with ``PRIOR_WEEKS`` pseudo-weeks
(6 weeks of history, 5 degrees of freedom, weigh 5/8; without history the prior stands).

Draw (``apply_weekly_variation``): one lognormal factor (mean 1, that CV) per replication and week,
multiplying the line's good output of every day in the week. It is applied to the results of the
engine or the SimPy reference alike (``twin.simulation.capacity.simulate_lines``), so the two stay comparable.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from twin.plant.model import Plant

WEEKS = 8
MIN_WEEK_HOURS = 20.0  # running + idle hours: a week with less says little (holidays, line down)
PRIOR_CV = 0.03
PRIOR_WEEKS = 3.0
STREAM = 0x5EED_3EE7  # keeps the factors independent of the engine's own random stream


def fit_weekly_cv(plant: Plant, kpis: pd.DataFrame | None, today: dt.date) -> dict[str, float]:
    """Coefficient of variation of each line's weekly output rate (see the module docstring)."""
    out = dict.fromkeys((line.id for line in plant.lines), PRIOR_CV)
    need = {"machine_id", "date", "good_qty", "production_hours", "idle_hours"}
    if kpis is None or len(kpis) == 0 or not need <= set(kpis.columns):
        return out
    monday = today - dt.timedelta(days=today.weekday())
    first = monday - dt.timedelta(weeks=WEEKS)
    k = kpis.assign(date=pd.to_datetime(kpis["date"]).dt.date)
    k = k[(k["date"] >= first) & (k["date"] < monday)]
    k = k.assign(
        week=[d - dt.timedelta(days=d.weekday()) for d in k["date"]],
        hours=k["production_hours"].astype(float) + k["idle_hours"].astype(float),
        good=k["good_qty"].astype(float),
        idle=k["idle_hours"].astype(float),
    ).dropna(subset=["hours", "good"])
    for line in plant.lines:
        ids = [m.id for m in line.machines]
        h = k[k["machine_id"].isin(ids)]
        if h.empty:
            continue
        pacing = _pacing_machine(h)
        weeks = h[h["machine_id"] == pacing].groupby("week")[["good", "hours"]].sum()
        weeks = weeks[weeks["hours"] >= MIN_WEEK_HOURS]
        rate = weeks["good"] / weeks["hours"]
        n = len(rate)
        seen = float((rate / rate.mean()).var(ddof=1)) * (n - 1) if n >= 2 else 0.0
        dof = max(n - 1, 0)
        out[line.id] = float(np.sqrt((seen + PRIOR_WEEKS * PRIOR_CV**2) / (dof + PRIOR_WEEKS)))
    return out


def _pacing_machine(h: pd.DataFrame) -> str:
    """The machine whose ideal processing hours fill the largest share of its running + idle
    hours: the least starved or blocked one, wherever the MES books the waits.

    An MES that books waits as IDLE shows them as idle (then this is the machine with the lowest
    idle share at similar performance); one that books only RUNNING, UNPLANNED_DOWNTIME and OFF
    hides them in running time, where they lower the KPI performance. By idle alone every machine
    of such a line ties at 0 and the first one was taken: on the reference plant
    (bench/reference_plant.py) a machine off the constraint, whose output per running hour swings
    with the constraint's failures (which the engine simulates already), widening the band twice.
    """
    if "performance" not in h.columns or h["performance"].isna().all():
        totals = h.groupby("machine_id")[["idle", "hours"]].sum()
        return str((totals["idle"] / totals["hours"].where(totals["hours"] > 0)).idxmin())
    ideal = h["performance"].astype(float).fillna(0.0) * h["production_hours"].astype(float)
    totals = h.assign(ideal=ideal).groupby("machine_id")[["ideal", "hours"]].sum()
    return str((totals["ideal"] / totals["hours"].where(totals["hours"] > 0)).idxmax())


def weekly_factors(cv: float, replications: int, weeks: int, seed: int, stream: int) -> np.ndarray:
    """Lognormal factors with mean 1 and coefficient of variation ``cv``, shape (reps, weeks)."""
    if cv <= 0:
        return np.ones((replications, weeks))
    rng = np.random.default_rng([seed & 0xFFFFFFFF, STREAM, stream])
    sigma2 = np.log1p(cv**2)
    return rng.lognormal(-sigma2 / 2, np.sqrt(sigma2), (replications, weeks))


def apply_weekly_variation(
    output: np.ndarray,
    bucket_edges: np.ndarray,
    cv: float,
    seed: int,
    stream: int,
    week: tuple[int, ...] | None = None,
) -> np.ndarray:
    """``output`` (reps, buckets) with each bucket scaled by its week's factor.

    ``stream`` (e.g. the line's index) gives each line its own factors for one seed.
    ``week``: the calendar week of each bucket (``LineParams.bucket_week``: a horizon starting at
    the last data time begins with the rest of a week); without it, weeks are 168 h from the
    horizon start, a bucket belonging to the week its start falls in.
    """
    if week is None or len(week) != output.shape[1]:
        week = (np.asarray(bucket_edges, float)[:-1] // (7 * 24)).astype(int)
    week = np.asarray(week, int)
    factors = weekly_factors(cv, output.shape[0], int(week.max()) + 1, seed, stream)
    return output * factors[:, week]
