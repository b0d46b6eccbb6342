"""Reliability fallback when no trained model may score: a life distribution in the age since renewal.

A machine's *age* is the time since its last renewal (a corrective repair or a preventive maintenance
ended: ``hours_since_maintenance`` of the feature mart, known at ``as_of``). Lives end in a failure
(an event) or in a renewal / the end of the data (right-censored). A Weibull ``S(t) = exp(-(t/scale)^shape)``
is fitted to them by maximum likelihood, censored lives included, per machine type where the type holds
enough failures, else for the fleet. A machine of age ``a`` then gets

* ``p_failure_72h = 1 - S(a + 72) / S(a)``, the conditional probability of failing within the horizon;
* hours to failure from the conditional residual life: ``x_q = scale * ((a/scale)^shape - ln(1-q))^(1/shape) - a``,
  capped at ``cap_h`` (what the data can support).

With shape > 1 (wear-out) an older machine is riskier; the old per-machine constant hazard did the
opposite (a machine that ran long without failing got the *lower* risk). With fewer than
``MIN_FAILURES_WEIBULL`` failures no shape can be estimated and the fit is an exponential (shape 1) with
the pooled rate, ``(n + 0.5) / exposure`` (Jeffreys), so a plant without any failure stays finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from ml.features import failure_events_from_labels, prepare

RISK_COLUMNS = [
    "machine_id",
    "as_of",
    "p_failure_72h",
    "hours_to_failure_p10",
    "hours_to_failure_p50",
    "hours_to_failure_p90",
    "failure_mode",
]
AGE_COLUMN = "hours_since_maintenance"
FLEET = "fleet"
# Below 3 failures the Weibull shape is not identifiable (two points fit any shape); a type needs 5 of
# its own before it leaves the fleet's fit, because the MLE of the shape is biased upwards on few
# events (about +30 % at n = 5) and a type's noisy shape would move its risk more than its data says.
MIN_FAILURES_WEIBULL = 3
MIN_FAILURES_PER_TYPE = 5
# ...and only when its own fit explains its lives better than the fleet's: a likelihood-ratio test
# with 2 extra parameters at 5 % (chi2(2) 0.95 = 5.99, half of it on the log scale). On the 90-day demo
# (11 types, 112 failures, one shared life law in the generator) per-type fits without this test
# lowered the out-of-sample ROC-AUC of the 72 h risk from 0.66 to 0.64.
TYPE_LR_THRESHOLD = 5.99 / 2
# Shapes outside [0.5, 6] are not seen in machine reliability data and come from degenerate fits.
SHAPE_BOUNDS = (0.5, 6.0)


@dataclass(frozen=True)
class WeibullLife:
    """A fitted life distribution and the evidence behind it."""

    shape: float
    scale_h: float
    failures: int
    lives: int

    def survival(self, age_h: np.ndarray) -> np.ndarray:
        return np.exp(-np.power(np.maximum(age_h, 0.0) / self.scale_h, self.shape))

    def p_within(self, age_h: np.ndarray, horizon_h: float) -> np.ndarray:
        cum = np.power(np.maximum(age_h, 0.0) / self.scale_h, self.shape)
        cum_after = np.power((np.maximum(age_h, 0.0) + horizon_h) / self.scale_h, self.shape)
        return -np.expm1(-(cum_after - cum))

    def residual_quantile(self, age_h: np.ndarray, q: float) -> np.ndarray:
        a = np.maximum(age_h, 0.0)
        cum = np.power(a / self.scale_h, self.shape) - math.log1p(-q)
        return self.scale_h * np.power(cum, 1.0 / self.shape) - a

    def log_likelihood(self, age_h: np.ndarray, failed: np.ndarray) -> float:
        """Censored log-likelihood: log density for failures, log survival for every life."""
        t = np.maximum(np.asarray(age_h, dtype=float), 0.5)
        z = t / self.scale_h
        log_f = math.log(self.shape / self.scale_h) + (self.shape - 1) * np.log(z)
        return float(
            np.sum(log_f[np.asarray(failed, dtype=bool)]) - np.sum(np.power(z, self.shape))
        )

    @property
    def median_h(self) -> float:
        return self.scale_h * math.log(2.0) ** (1.0 / self.shape)

    @property
    def mean_h(self) -> float:
        return self.scale_h * math.gamma(1.0 + 1.0 / self.shape)

    def describe(self, group: str) -> str:
        return (
            f"{group} shape {self.shape:.2f} scale {self.scale_h:.0f} h "
            f"({self.failures} failures / {self.lives} lives)"
        )


def fit_weibull(age_h: np.ndarray, failed: np.ndarray) -> WeibullLife:
    """Censored maximum-likelihood Weibull (exponential with the Jeffreys rate on < 3 failures)."""
    age_h = np.maximum(np.asarray(age_h, dtype=float), 0.0)
    failed = np.asarray(failed, dtype=bool)
    n_fail = int(failed.sum())
    exposure = max(float(age_h.sum()), 1.0)
    if n_fail < MIN_FAILURES_WEIBULL:
        return WeibullLife(1.0, exposure / (n_fail + 0.5), n_fail, len(age_h))
    # Ages of failures below half an hour are recording artefacts (a failure right after a repair);
    # log(0) would dominate the likelihood.
    t_fail = np.maximum(age_h[failed], 0.5)
    t_all = np.where(failed, np.maximum(age_h, 0.5), age_h)

    def profile_nll(log_k: float) -> float:
        k = math.exp(log_k)
        # For a given shape the scale has a closed form: scale^k = sum(t^k) / n_fail.
        scale_k = float(np.sum(np.power(t_all, k))) / n_fail
        return -(n_fail * math.log(k) - n_fail * math.log(scale_k) + (k - 1) * np.log(t_fail).sum())

    bounds = (math.log(SHAPE_BOUNDS[0]), math.log(SHAPE_BOUNDS[1]))
    k = math.exp(minimize_scalar(profile_nll, bounds=bounds, method="bounded").x)
    scale = (float(np.sum(np.power(t_all, k))) / n_fail) ** (1.0 / k)
    return WeibullLife(k, scale, n_fail, len(age_h))


def _renewals_from_events(events: pd.DataFrame) -> dict[str, np.ndarray]:
    if events.empty:
        return {}
    times = pd.to_datetime(events["failure_start"])
    return {
        str(m): np.sort(times[events["machine_id"] == m].to_numpy(dtype="datetime64[ns]"))
        for m in events["machine_id"].unique()
    }


def renewal_age_h(
    rows: pd.DataFrame,
    *,
    renewals: dict[str, np.ndarray] | None = None,
    observed_since: dict[str, pd.Timestamp] | None = None,
    with_source: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Hours since each row's last renewal, known at its ``as_of``.

    The CMMS age (``hours_since_maintenance``) wins where it is known. Before a machine's first
    work order it is null: the age then counts from the last failure seen in ``renewals`` or, failing
    that, from when the machine was first observed (a lower bound; exact for run-to-failure data where
    the observation starts with a new unit, e.g. C-MAPSS engines). ``with_source`` also returns
    whether each age counts from a known renewal (False: from the first observation).
    """
    renewals = renewals or {}
    observed_since = observed_since or {}
    as_of = rows["as_of"].to_numpy(dtype="datetime64[ns]")
    first_seen = (
        rows.groupby("machine_id")["as_of"].transform("min").to_numpy(dtype="datetime64[ns]")
    )
    start = first_seen.copy()
    renewed = np.zeros(len(rows), dtype=bool)
    machines = rows["machine_id"].to_numpy()
    for machine in np.unique(machines):
        at = machines == machine
        if machine in observed_since:
            start[at] = np.minimum(start[at], np.datetime64(observed_since[machine], "ns"))
        times = renewals.get(machine)
        if times is not None and len(times):
            idx = np.searchsorted(times, as_of[at], side="right") - 1
            last = np.where(idx >= 0, times[np.maximum(idx, 0)], np.datetime64("NaT"))
            start[at] = np.where(idx >= 0, np.maximum(last, start[at]), start[at])
            renewed[at] = idx >= 0
    age = (as_of - start) / np.timedelta64(1, "h")
    if AGE_COLUMN in rows.columns:
        known = rows[AGE_COLUMN].astype(float).to_numpy()
        age = np.where(np.isfinite(known), known, age)
        renewed |= np.isfinite(known)
    age = np.maximum(age.astype(float), 0.0)
    return (age, renewed) if with_source else age


def life_records(rows: pd.DataFrame, events: pd.DataFrame, age_h: np.ndarray) -> pd.DataFrame:
    """One record per observed life: machine, age reached, whether it ended in a failure.

    A life ends where the age drops (a renewal). It failed if a failure starts after its last row and
    no later than the next life's first row (or anywhere after, for the machine's last life); its age
    is then the age at that failure's start. Otherwise it is right-censored at its last age.
    ``start_seen`` is False for a machine's first life when no work order before it is known (its age
    then counts from the first observation, a lower bound).
    """
    cmms_age = (
        rows[AGE_COLUMN].notna().to_numpy()
        if AGE_COLUMN in rows.columns
        else np.zeros(len(rows), dtype=bool)
    )
    frame = pd.DataFrame(
        {
            "machine_id": rows["machine_id"].to_numpy(),
            "as_of": rows["as_of"].to_numpy(),
            "age": age_h,
            "seen": cmms_age,
        }
    )
    records = []
    for machine, g in frame.groupby("machine_id", sort=False):
        step = np.diff(g["as_of"].to_numpy()) / np.timedelta64(1, "h")
        # a renewal: the age grew less than the clock by more than an hour (sampling jitter)
        reset = np.concatenate([[True], np.diff(g["age"].to_numpy()) < step - 1.0])
        life = np.cumsum(reset)
        fails = np.sort(
            pd.to_datetime(events.loc[events["machine_id"] == machine, "failure_start"]).to_numpy(
                dtype="datetime64[ns]"
            )
        )
        starts = g["as_of"].to_numpy()[reset]
        for i, part in enumerate(g.groupby(life, sort=True)):
            seg = part[1]
            end_at, end_age = seg["as_of"].iloc[-1], float(seg["age"].iloc[-1])
            until = starts[i + 1] if i + 1 < len(starts) else np.datetime64("2262-01-01")
            hit = fails[(fails > np.datetime64(end_at, "ns")) & (fails <= until)]
            if len(hit):
                extra = (hit[0] - np.datetime64(end_at, "ns")) / np.timedelta64(1, "h")
                failed, end_age = True, end_age + float(extra)
            else:
                failed = False
            records.append((machine, end_age, failed, i > 0 or bool(seg["seen"].iloc[0])))
    return pd.DataFrame(records, columns=["machine_id", "age_h", "failed", "start_seen"])


class ReliabilityFallback:
    """Age-based risk from fitted life distributions, with the same ``predict_risk`` as the model."""

    kind = "reliability_fallback"

    def __init__(
        self,
        lives: dict[str, WeibullLife],
        machine_group: dict[str, str],
        horizon_h: float,
        cap_h: float,
        failure_mode: dict[str, str | None],
        reason: str,
        *,
        renewals: dict[str, np.ndarray] | None = None,
        observed_since: dict[str, pd.Timestamp] | None = None,
    ) -> None:
        self.lives = lives  # group (a machine type or FLEET) -> its life distribution
        self.machine_group = machine_group
        self.horizon_h = horizon_h
        self.cap_h = cap_h
        self.failure_mode_by_group = failure_mode
        self.reason = reason
        self.renewals = renewals or {}
        self.observed_since = observed_since or {}

    @property
    def failure_mode(self) -> str | None:
        return self.failure_mode_by_group.get(FLEET)

    @property
    def method(self) -> str:
        """Which fallback, in one line: e.g. ``weibull_age(fleet shape 2.10 ...; press ...)``."""
        fleet = self.lives[FLEET]
        name = "weibull_age" if fleet.failures >= MIN_FAILURES_WEIBULL else "exponential_pooled"
        parts = [life.describe(group) for group, life in self.lives.items()]
        return f"{name}({'; '.join(parts)})"

    @property
    def model_version(self) -> str:
        """What ``machine_failure_risk.model_version`` says: ``fallback:<method> (<why>)``."""
        return f"fallback:{self.method} ({self.reason})"

    def life_of(self, machine_id: str) -> WeibullLife:
        return self.lives.get(self.machine_group.get(machine_id, FLEET), self.lives[FLEET])

    def mtbf_h(self, machine_id: str) -> float:
        return self.life_of(machine_id).mean_h

    def age_context(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per machine (index) of ``frame``'s last rows: its age and the median life it is judged by."""
        rows = prepare(frame).groupby("machine_id", as_index=False).tail(1)
        age, renewed = renewal_age_h(
            rows, renewals=self.renewals, observed_since=self.observed_since, with_source=True
        )
        median = [self.life_of(m).median_h for m in rows["machine_id"]]
        return pd.DataFrame(
            {"age_h": age, "renewed": renewed, "median_life_h": median},
            index=rows["machine_id"].to_numpy(),
        )

    def predict_risk(self, frame: pd.DataFrame) -> pd.DataFrame:
        rows = prepare(frame)
        age = renewal_age_h(rows, renewals=self.renewals, observed_since=self.observed_since)
        out = rows[["machine_id", "as_of"]].copy()
        out["p_failure_72h"] = np.nan
        for q in (10, 50, 90):
            out[f"hours_to_failure_p{q}"] = np.nan
        out["failure_mode"] = None
        groups = rows["machine_id"].map(lambda m: self.machine_group.get(m, FLEET))
        life_groups = groups.where(groups.isin(list(self.lives)), FLEET).to_numpy()
        for group in np.unique(life_groups):
            at = life_groups == group
            life = self.lives[group]
            out.loc[at, "p_failure_72h"] = life.p_within(age[at], self.horizon_h)
            for q in (10, 50, 90):
                x = life.residual_quantile(age[at], q / 100)
                out.loc[at, f"hours_to_failure_p{q}"] = np.minimum(x, self.cap_h)
        modes = groups.map(self.failure_mode_by_group)
        out["failure_mode"] = modes.where(modes.notna(), self.failure_mode).to_numpy()
        out["failure_mode"] = out["failure_mode"].astype(object).where(out["failure_mode"].notna())
        return out[RISK_COLUMNS].reset_index(drop=True)


def _most_common(modes: pd.Series) -> str | None:
    modes = modes.dropna()
    return None if modes.empty else str(modes.mode().iloc[0])


def reliability_fallback(
    frame: pd.DataFrame,
    reason: str,
    *,
    horizon_h: float = 72.0,
    cap_h: float = 720.0,
    failures: pd.DataFrame | None = None,
    machine_types: dict[str, str] | None = None,
) -> ReliabilityFallback:
    """Fit the fallback from the frame's lives and the failures (from ``failures`` or the labels).

    ``machine_types`` (machine id -> type, from the plant model) lets a type with at least
    ``MIN_FAILURES_PER_TYPE`` failures, whose own fit beats the fleet's by the likelihood-ratio test,
    have its own life distribution; the others use the fleet's.
    """
    rows = prepare(frame)
    events = failures if failures is not None else failure_events_from_labels(rows)
    if "failure_mode" not in events.columns:
        events = events.assign(failure_mode=None)
    events = events.assign(machine_id=events["machine_id"].astype(str))
    renewals = _renewals_from_events(events)
    observed_since = rows.groupby("machine_id")["as_of"].min().to_dict()
    age = renewal_age_h(rows, renewals=renewals, observed_since=observed_since)
    records = life_records(rows, events, age)
    # A first life whose start was not seen is left-truncated: counting it from the first observation
    # makes lives look shorter (on 14 demo days, 18 of 52 lives). Leave such lives out whenever the
    # others carry enough failures; run-to-failure data (every unit observed from new) keeps them all.
    seen = records[records["start_seen"]]
    if int(seen["failed"].sum()) >= MIN_FAILURES_WEIBULL:
        records = seen
    fleet = fit_weibull(records["age_h"].to_numpy(), records["failed"].to_numpy())
    lives, modes = {FLEET: fleet}, {FLEET: _most_common(events["failure_mode"])}
    types = {str(k): str(v) for k, v in (machine_types or {}).items()}
    group_of = {m: types.get(m, FLEET) for m in rows["machine_id"].unique()}
    records["group"] = records["machine_id"].map(group_of)
    own = []
    for group, recs in records.groupby("group"):
        age_g, failed_g = recs["age_h"].to_numpy(), recs["failed"].to_numpy()
        if group != FLEET and int(failed_g.sum()) >= MIN_FAILURES_PER_TYPE:
            life = fit_weibull(age_g, failed_g)
            gain = life.log_likelihood(age_g, failed_g) - fleet.log_likelihood(age_g, failed_g)
            if gain <= TYPE_LR_THRESHOLD:
                continue
            lives[group] = life
            own.append(group)
    # The failure mode needs no life fit: a type's most common mode, once it has failed at all.
    for group in set(group_of.values()) - {FLEET}:
        members = [m for m, g in group_of.items() if g == group]
        mode = _most_common(events.loc[events["machine_id"].isin(members), "failure_mode"])
        if mode is not None:
            modes[group] = mode
    if fleet.failures < MIN_FAILURES_WEIBULL:
        reason = f"{reason}; {fleet.failures} failure(s) are too few to fit a wear-out shape"
    elif types and not own:
        reason = f"{reason}; no machine type's own life fits better than the fleet's"
    elif own:
        reason = f"{reason}; own life for {', '.join(own)}, the fleet's for the other types"
    return ReliabilityFallback(
        lives,
        group_of,
        horizon_h,
        cap_h,
        modes,
        reason,
        renewals=renewals,
        observed_since=observed_since,
    )
