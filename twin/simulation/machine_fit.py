"""What the plant's history says about each machine: ``fit_machines`` (before scenario changes).

Inputs are pandas frames shaped like the KPI marts (``marts.fct_machine_kpis_daily``,
``marts.fct_failure_events``). Either may be empty: the priors (``Priors``) then stand in.
``twin.simulation.line_params`` turns the fits into engine parameters.

Estimation (numbers in ``Priors``):

* Performance, scrap and utilisation (operating share of planned busy time, to turn wall-clock
  hours into operating hours): trailing 28 days, weighted by production hours and shrunk towards the
  prior with 40 pseudo-hours (half a week of two shifts), so a machine with 4 h of history keeps
  ~90 % of the prior and one with 300 h keeps ~12 %.
* Idle (ISO 22400: planned busy time neither running, set up nor down; minor stops, waiting for
  material or an operator, start-up and clean-up): ``idle`` = idle / (running + idle) hours, trailing
  28 days, shrunk towards 0.10 with 40 pseudo-hours (how the engine uses it:
  ``twin.simulation.line_params``, "Idle").
* Setup seen: the trailing 28 days' setup hours and running + idle hours on the same days (the
  changeover interval is set in ``twin.simulation.line_params``, "Changeovers").
* Failures: operating hours between failures = production hours (or, on days without MES, shift
  hours x prior utilisation) / failures over the last 365 days. Gamma shrinkage: the plant pools
  all machines with one pseudo-failure at the prior MTBF, each machine gets one pseudo-failure at
  the pooled MTBF. Exponential, or Weibull (shape by censored MLE on day-resolution operating
  clocks, mean kept) from 10 failures of a machine; below that, one shape for the whole plant
  (each machine its own scale) once the plant has 10 gaps between failures. Wear-out is the rule
  (the reference plant's failures are Weibull 2.5, the virtual plant's gamma 3): an exponential
  law for machines with few failures made their weekly failure counts Poisson, wider than the
  plant's, and the P10-P90 band of the reference plant held 12 of 12 weeks. Repairs: lognormal, mean shrunk with 3
  pseudo-repairs towards the pooled mean, cv from all repairs (prior when fewer than 10).
* Repair hours are the work order's hours inside shifts (``open_repair_hours``), not its span: the
  engine's repairs consume open time only, and a CMMS work order runs from the failure to the
  restart in wall-clock time, so a repair that a shift end interrupts spans the night or the
  weekend. On the reference plant (``bench/reference_plant.py``: 1-2.5 h repairs) the spans made
  one machine's mean repair 5.0 h, with single "repairs" of 57 h over a weekend; a plant that
  repairs on overnight (the virtual plant) loses only the open hours too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from twin.plant.calendar import day_window, local_date_of, shift_windows
from twin.plant.model import Plant
from twin.simulation.line_model import Distribution, Exponential, LogNormal, Weibull


@dataclasses.dataclass(frozen=True)
class Priors:
    """Plant-wide priors and windows (see the module docstring for how they are used)."""

    performance: float = 0.9
    scrap: float = 0.02
    utilisation: float = 0.85  # operating share of planned busy time (ISO 22400 availability)
    idle: float = 0.10  # idle share of running + idle hours (minor stops, waiting, start-up)
    weight_h: float = 40.0  # pseudo production hours behind the three above
    mtbf_h: float = 150.0  # operating hours; about one failure per machine every two weeks
    mttr_h: float = 2.5
    repair_cv: float = 0.7
    mttr_weight: float = 3.0  # pseudo repairs
    weibull_min_failures: int = 10  # gaps in the plant for one fleet shape
    weibull_own_failures: int = 30  # failures of a machine for its own shape (SE ~ 15 %)
    kpi_days: int = 28
    reliability_days: int = 365
    risk_cap_h: float = 720.0  # hours_to_failure are clipped there by the risk model
    risk_max_age_h: float = 72.0


@dataclasses.dataclass(frozen=True)
class MachineFit:
    """What the history says about one machine (before scenario changes)."""

    performance: float
    scrap: float
    utilisation: float
    tbf: Distribution  # in running hours, as in the history (``line_params`` stretches it for idle)
    repair: LogNormal
    failures: int
    exposure_h: float
    idle: float = 0.0
    setup_seen_h: float = 0.0  # setup hours in the trailing kpi_days
    operating_seen_h: float = 0.0  # running + idle hours on the same days


def _frame(df: pd.DataFrame | None, cols: tuple[str, ...]) -> pd.DataFrame:
    if df is None or len(df) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"history frame lacks columns {missing}")
    return df


def _as_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


def _shrunk(values: pd.Series, hours: pd.Series, prior: float, weight: float) -> float:
    ok = values.notna() & (hours > 0)
    return float((values[ok] * hours[ok]).sum() + prior * weight) / (
        float(hours[ok].sum()) + weight
    )


def fit_machines(
    plant: Plant,
    kpis: pd.DataFrame | None,
    failures: pd.DataFrame | None,
    start: dt.datetime,
    priors: Priors = Priors(),
) -> dict[str, MachineFit]:
    """Speed, quality, utilisation, failure and repair distributions per machine (module doc)."""
    kpis = _frame(
        kpis,
        (
            "machine_id",
            "date",
            "production_hours",
            "planned_busy_hours",
            "performance",
            "scrap_rate",
        ),
    )
    failures = _frame(failures, ("machine_id", "started_at", "repair_hours"))
    today = local_date_of(plant, start)
    k = kpis.assign(date=_as_date(kpis["date"]))
    k = k[k["date"] < today]
    recent = k[k["date"] >= today - dt.timedelta(days=priors.kpi_days)]
    rel = k[k["date"] >= today - dt.timedelta(days=priors.reliability_days)]
    f = failures.assign(started_at=pd.to_datetime(failures["started_at"]))
    ids = {m.id for m in plant.machines}
    f = f[(f["started_at"] < pd.Timestamp(start)) & f["machine_id"].isin(ids)]
    f = f.assign(date=[local_date_of(plant, t.to_pydatetime()) for t in f["started_at"]])
    f = f.assign(repair_hours=open_repair_hours(plant, f), day_share=_share_of_day(plant, f))
    f = f[f["date"] >= (rel["date"].min() if len(rel) else today)]

    # exposure: production hours, or shift hours x prior utilisation on days without MES states
    day_shift_h = _day_shift_hours(plant, sorted(set(rel["date"])))
    fallback = rel["date"].map(day_shift_h).fillna(0.0) * priors.utilisation
    rel = rel.assign(exposure=rel["production_hours"].astype(float).fillna(fallback))
    exposure = rel.groupby("machine_id")["exposure"].sum()
    counts = f.groupby("machine_id").size()
    pooled_rate = (float(counts.sum()) + 1.0) / (float(exposure.sum()) + priors.mtbf_h)
    repairs = f["repair_hours"].astype(float)
    repairs = repairs[repairs > 0]
    pooled_mttr = (float(repairs.sum()) + priors.mttr_weight * priors.mttr_h) / (
        len(repairs) + priors.mttr_weight
    )
    cv = float(repairs.std() / repairs.mean()) if len(repairs) >= 10 else priors.repair_cv
    cv = min(max(cv, 0.1), 3.0)

    fleet_shape = _fleet_shape(rel, f, priors)
    out: dict[str, MachineFit] = {}
    for m in plant.machines:
        h = recent[recent["machine_id"] == m.id]
        hours = h["production_hours"].astype(float).fillna(0.0)
        w = priors.weight_h
        perf = _shrunk(h["performance"].astype(float), hours, priors.performance, w)
        scrap = _shrunk(h["scrap_rate"].astype(float), hours, priors.scrap, w)
        busy = h["planned_busy_hours"].astype(float).fillna(0.0)
        ok = h["production_hours"].notna() & h["planned_busy_hours"].notna()
        util = (float(hours[ok].sum()) + priors.utilisation * w) / (float(busy[ok].sum()) + w)
        idle_h = (
            h["idle_hours"].astype(float)
            if "idle_hours" in h.columns
            else pd.Series(np.nan, index=h.index)
        )
        seen = idle_h.notna() & h["production_hours"].notna()
        setup_h = h["setup_hours"].astype(float) if "setup_hours" in h.columns else idle_h * np.nan
        both = seen & setup_h.notna()
        idle = (float(idle_h[seen].sum()) + priors.idle * w) / (
            float(hours[seen].sum() + idle_h[seen].sum()) + w
        )
        n, t = int(counts.get(m.id, 0)), float(exposure.get(m.id, 0.0))
        mtbf = (t + 1.0 / pooled_rate) / (n + 1.0)
        tbf: Distribution = Exponential(mtbf)
        shape = fleet_shape
        if n >= priors.weibull_own_failures or (shape is None and n >= priors.weibull_min_failures):
            shape = _weibull_shape(rel[rel["machine_id"] == m.id], f[f["machine_id"] == m.id])
        if shape is not None:
            tbf = Weibull(shape, mtbf / math.gamma(1 + 1 / shape))
        r = f.loc[f["machine_id"] == m.id, "repair_hours"].astype(float)
        r = r[r > 0]
        mttr = (float(r.sum()) + priors.mttr_weight * pooled_mttr) / (len(r) + priors.mttr_weight)
        out[m.id] = MachineFit(
            performance=min(max(perf, 0.05), 1.0),
            scrap=min(max(scrap, 0.0), 0.5),
            utilisation=min(max(util, 0.05), 1.0),
            tbf=tbf,
            repair=LogNormal(mttr, cv),
            failures=n,
            exposure_h=t,
            idle=min(max(idle, 0.0), 0.9),
            setup_seen_h=float(setup_h[both].sum()),
            operating_seen_h=float(hours[both].sum() + idle_h[both].sum()),
        )
    return out


def open_repair_hours(plant: Plant, failures: pd.DataFrame) -> pd.Series:
    """Each work order's hours inside the plant's shifts (module doc); its ``repair_hours`` where
    it has no end time (still open) or no ``ended_at`` column."""
    hours = failures["repair_hours"].astype(float)
    if "ended_at" not in failures.columns or failures.empty:
        return hours
    a = pd.to_datetime(failures["started_at"])
    b = pd.to_datetime(failures["ended_at"])
    ok = a.notna() & b.notna() & (b >= a)
    if not ok.any():
        return hours
    clock = _open_clock(plant, a[ok].min(), b[ok].max())
    spans = clock(b[ok]) - clock(a[ok])
    return hours.where(~ok, pd.Series(spans, index=hours[ok].index)).astype(float)


def _open_clock(plant: Plant, first: pd.Timestamp, last: pd.Timestamp):
    """Open (shift) hours from before ``first`` up to each instant (naive UTC), as a function."""
    lo = local_date_of(plant, first.to_pydatetime()) - dt.timedelta(days=1)
    hi = local_date_of(plant, last.to_pydatetime()) + dt.timedelta(days=1)
    windows = sorted((w.start, w.end) for w in shift_windows(plant, lo, hi))
    starts = np.array([s for s, _ in windows], dtype="datetime64[us]")
    ends = np.array([e for _, e in windows], dtype="datetime64[us]")
    before = np.concatenate([[0.0], np.cumsum((ends - starts) / np.timedelta64(1, "h"))])

    def clock(t: pd.Series) -> np.ndarray:
        x = pd.to_datetime(t).to_numpy(dtype="datetime64[us]")
        if len(starts) == 0:
            return np.zeros(len(x))
        i = np.searchsorted(starts, x, side="right") - 1
        j = np.maximum(i, 0)
        inside = np.clip((np.minimum(x, ends[j]) - starts[j]) / np.timedelta64(1, "h"), 0, None)
        return np.where(i >= 0, before[j] + inside, 0.0)

    return clock


def _share_of_day(plant: Plant, f: pd.DataFrame) -> np.ndarray:
    """Share of its local day's shift hours before each failure (0.5 when the day has none)."""
    if f.empty:
        return np.zeros(0)
    t = pd.to_datetime(f["started_at"])
    clock = _open_clock(plant, t.min(), t.max())
    day0 = pd.Series([day_window(plant, d).start for d in f["date"]], index=f.index)
    day1 = pd.Series([day_window(plant, d).end for d in f["date"]], index=f.index)
    c0, c1 = clock(day0), clock(day1)
    return np.where(c1 > c0, (clock(t) - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.5)


def _day_shift_hours(plant: Plant, dates: list[dt.date]) -> dict[dt.date, float]:
    hours: dict[dt.date, float] = dict.fromkeys(dates, 0.0)
    if dates:
        for w in shift_windows(plant, dates[0], dates[-1]):
            if w.local_date in hours:
                hours[w.local_date] += w.hours
    return hours


def _weibull_gaps(days: pd.DataFrame, fails: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(observed gaps, gaps + the censored tail) in operating hours at day resolution.

    Each failure sits on the machine's cumulative exposure clock at the share of its day's shift
    hours that had passed (``day_share``; mid-day without it: at day resolution the gaps of a
    machine failing every 30-40 h scatter by +-8 h, which halved the fitted shape of the
    reference plant's Weibull 2.5); the first gap is dropped (the history does not start at a
    renewal), the time after the last failure is censored.
    """
    days = days.sort_values("date")
    before = dict(zip(days["date"], days["exposure"].cumsum() - days["exposure"], strict=True))
    exposure = dict(zip(days["date"], days["exposure"], strict=True))
    share = fails["day_share"] if "day_share" in fails.columns else pd.Series(0.5, fails.index)
    at = np.sort(
        [
            before[d] + exposure[d] * x
            for d, x in zip(fails["date"], share, strict=True)
            if d in before
        ]
    )
    if len(at) < 3:
        return None
    gaps = np.maximum(np.diff(at), 0.1)
    tail = max(float(days["exposure"].sum()) - at[-1], 0.1)
    return gaps, np.append(gaps, tail)


def _weibull_shape(days: pd.DataFrame, fails: pd.DataFrame) -> float | None:
    """Censored MLE of one machine's Weibull shape (``_weibull_gaps``)."""
    terms = _weibull_gaps(days, fails)
    return _shape_mle([terms]) if terms is not None else None


def _fleet_shape(rel: pd.DataFrame, f: pd.DataFrame, priors: Priors) -> float | None:
    """One Weibull shape for the plant (each machine its own scale), from every machine's gaps
    when they add up to ``weibull_min_failures`` (module doc, "Failures")."""
    terms = []
    for mid, fails in f.groupby("machine_id"):
        got = _weibull_gaps(rel[rel["machine_id"] == mid], fails)
        if got is not None:
            terms.append(got)
    if sum(len(g) for g, _ in terms) < priors.weibull_min_failures:
        return None
    return _shape_mle(terms)


def _shape_mle(terms: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Shape k maximising the profile likelihood of machines sharing k (each its own scale): the
    per-machine scores weighted by their observed gaps, summed."""

    def score(k: float) -> float:
        total = 0.0
        for gaps, t in terms:
            tk = t**k
            total += len(gaps) * float(
                (tk * np.log(t)).sum() / tk.sum() - 1 / k - np.log(gaps).mean()
            )
        return total

    # the score rises with k; shapes outside [0.5, 5] are not believable for machine failures
    # (5 = gaps within about +-25 %), so a root outside is clipped to the nearer bound
    lo, hi = 0.5, 5.0
    if score(hi) <= 0:
        return hi
    if score(lo) >= 0:
        return lo
    # scipy.optimize costs ~0.3 s to import: every Dagster run process loads this module, few fit
    from scipy.optimize import brentq

    return float(brentq(score, lo, hi))
