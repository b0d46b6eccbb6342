"""The first failure of each machine from its latest failure-risk score (``predict_risk``).

Near-term risk (latest score per machine, ignored when older than 72 h; the horizon starts at the
last data time, where the scores are issued, so the current score applies):

* When (``first_failure``): the whole predicted distribution. Hours-to-failure p10/p50/p90 are
  survival points S = 0.9, 0.5, 0.1 at wall-clock hours from the score's ``as_of``; quantiles at
  the model's cap (720 h) are right-censored and dropped. The calibrated ``p_failure_72h`` adds the
  point S(72 h) = 1 - p where it agrees with the quantiles (survival must fall with time; where it
  does not, the quantiles win) and is the only point when every quantile is censored. The law
  conditions on the machine having survived the score's age, maps wall-clock to operating hours
  through the line's shifts and the utilisation, and is ``PiecewiseHazard`` through the points
  (constant hazard between them, so it passes through each exactly; a constant-hazard fallback's
  quantiles give back its constant hazard). Past the last point the history's TBF starts afresh.
* What it costs (``first_repair``): the repair time of the predicted ``failure_mode``, from the
  failure history (``marts.fct_failure_events``: failure_mode, repair_hours). Repair hours are
  modelled as machine x mode: the machine's fitted mean repair times the mode's mean over the
  plant's mean (the mode's mean shrunk towards the plant's with ``Priors.mttr_weight`` pseudo
  repairs), the machine's fitted cv. On the 90-day demo plant the modes' mean repairs differ by up
  to 47 % (bearing_wear 2.4 h, electrical_fault 3.5 h), more than most machines' own MTTRs do.
  A mode without history (or no mode) leaves the machine's fitted repair law.

Numbers in ``twin.simulation.machine_fit.Priors``; time is hours from ``start`` (naive UTC).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from twin.simulation.horizon import hours_from
from twin.simulation.line_model import Distribution, LogNormal, PiecewiseHazard, overlap
from twin.simulation.machine_fit import Priors

QUANTILE_SURVIVAL = {"p10": 0.9, "p50": 0.5, "p90": 0.1}
WINDOW_H = 72.0  # p_failure_72h
MIN_GAP_H = 0.05  # operating hours between knots that fall into the same closed period


def survival_points(row: pd.Series, priors: Priors = Priors()) -> list[tuple[float, float]]:
    """(wall-clock hours after ``as_of``, survival) points of one score, sorted and decreasing."""
    points = []
    for q, s in QUANTILE_SURVIVAL.items():
        v = float(row.get(f"hours_to_failure_{q}", np.nan))
        if np.isfinite(v) and 0 < v < priors.risk_cap_h - 1e-6:
            points.append((v, s))
    points.sort()
    points = [p for i, p in enumerate(points) if all(p[1] < x[1] for x in points[:i])]
    p = float(row.get("p_failure_72h", np.nan))
    if np.isfinite(p):
        s72 = 1.0 - min(max(p, 1e-6), 0.999)
        # a quantile exactly at 72 h counts on both sides: then p_failure_72h is not added
        before = [s for t, s in points if t <= WINDOW_H]
        after = [s for t, s in points if t >= WINDOW_H]
        if min(before, default=1.0) > s72 > max(after, default=0.0):
            points = sorted([*points, (WINDOW_H, s72)])
    return points


def first_failure(
    row: pd.Series | None,
    tbf: Distribution,
    shifts: np.ndarray,
    utilisation: float,
    start: dt.datetime,
    priors: Priors = Priors(),
) -> Distribution | None:
    """``first_tbf`` in operating hours from one risk score (None: no usable score)."""
    if row is None:
        return None
    age = hours_from(pd.Timestamp(row["as_of"]).to_pydatetime(), start)
    if age > priors.risk_max_age_h:
        return None  # a stale score says nothing about the horizon; the fitted TBF applies
    age = max(age, 0.0)
    points = survival_points(row, priors)
    if not points:
        return None
    # condition on surviving the score's age: S(t | age) = S(t) / S(age), S piecewise exponential
    wall = np.array([0.0, *(t for t, _ in points)])
    cum = -np.log([1.0, *(s for _, s in points)])
    at_age = float(np.interp(age, wall, cum)) if age < wall[-1] else None
    if at_age is None:
        return None  # the whole predicted distribution lies before the start: no near-term law
    knots, survival, last = [], [], 0.0
    for t, c in zip(wall[1:], cum[1:], strict=True):
        if t <= age:
            continue
        op = utilisation * float(overlap(shifts, np.array(0.0), np.array(t - age)))
        # a knot inside a closed period still means "right at the restart"
        op = max(op, last + MIN_GAP_H)
        knots.append(op)
        survival.append(float(np.exp(-(c - at_age))))
        last = op
    return PiecewiseHazard(tuple(knots), tuple(survival), then=tbf)


def mode_repair_factors(
    failures: pd.DataFrame | None, start: dt.datetime, priors: Priors = Priors()
) -> dict[str, float]:
    """Per failure mode: its mean repair hours over the plant's mean (shrunk, module docstring)."""
    need = {"failure_mode", "repair_hours", "started_at"}
    if failures is None or len(failures) == 0 or not need <= set(failures.columns):
        return {}
    f = failures[pd.to_datetime(failures["started_at"]) < pd.Timestamp(start)]
    hours = f["repair_hours"].astype(float)
    f = f.assign(repair_hours=hours)[hours > 0]
    if f.empty:
        return {}
    pooled = float(f["repair_hours"].mean())
    w = priors.mttr_weight
    by_mode = f.groupby("failure_mode")["repair_hours"].agg(["sum", "count"])
    return {
        str(mode): float((r["sum"] + w * pooled) / (r["count"] + w)) / pooled
        for mode, r in by_mode.iterrows()
    }


def first_repair(
    row: pd.Series | None, repair: LogNormal, factors: dict[str, float]
) -> LogNormal | None:
    """The first failure's repair law: the machine's repair scaled to the predicted mode's."""
    if row is None:
        return None
    factor = factors.get(str(row.get("failure_mode")))
    if factor is None:
        return None
    return LogNormal(repair.mean * factor, repair.cv)


def latest_risk(risk: pd.DataFrame | None, start: dt.datetime) -> dict[str, pd.Series]:
    """The latest score per machine issued up to an hour after ``start`` (by ``as_of``)."""
    if risk is None or len(risk) == 0:
        return {}
    r = risk.assign(as_of=pd.to_datetime(risk["as_of"]))
    r = r[r["as_of"] <= pd.Timestamp(start) + pd.Timedelta(hours=1)].sort_values("as_of")
    return {
        str(mid): row
        for mid, row in r.groupby("machine_id").tail(1).set_index("machine_id").iterrows()
    }
