"""The first failure of each machine from its latest failure-risk score (``predict_risk``).

Near-term risk (latest score per machine, ignored when older than 72 h): hours-to-failure p10/p90
(wall-clock, shifted by the score's age, mapped to operating hours through the line's shifts and
the utilisation) give ``first_tbf = Weibull.from_quantiles``; when p90 reaches the model's cap
(720 h, right-censored) the calibrated p_failure_72h gives ``HazardThen`` over those 72 h.
Numbers in ``twin.simulation.machine_fit.Priors``; time is hours from ``start`` (naive UTC).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from twin.simulation.horizon import hours_from
from twin.simulation.line_model import Distribution, HazardThen, Weibull, overlap
from twin.simulation.machine_fit import Priors


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

    def op(wall_h: float) -> float:  # wall-clock hours from start -> operating hours
        return utilisation * float(overlap(shifts, np.array(0.0), np.array(max(wall_h, 0.0))))

    p10, p90 = (float(row.get(f"hours_to_failure_{q}", np.nan)) for q in ("p10", "p90"))
    if np.isfinite([p10, p90]).all() and p90 < priors.risk_cap_h - 1e-6:
        lo, hi = op(p10 - age), op(p90 - age)
        lo = max(lo, 0.05)  # a p10 inside a closed period still means "right at the restart"
        if hi > lo * 1.01:
            return Weibull.from_quantiles(lo, hi)
    p = float(row.get("p_failure_72h", np.nan))
    until = op(72.0 - age)
    if np.isfinite(p) and until > 0:
        p = min(max(p, 0.0), 0.999)
        return HazardThen(per_h=-math.log1p(-p) / until, until_h=until, then=tbf)
    return None


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
