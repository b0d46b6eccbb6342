"""From the twin's history and a scenario to engine parameters: ``build_line_params``.

Inputs are pandas frames shaped like the KPI marts (``marts.fct_machine_kpis_daily``,
``marts.fct_failure_events``), the failure-risk scores (``predict_risk``) and, optionally, CMMS work
orders (``staging.stg_cmms__work_orders``, for the last preventive order) and a product mix. Any of
them may be empty: the priors below then stand in. Time is hours from ``start`` (naive UTC).

Estimation (numbers in ``Priors``):

* Rate: 3600 / (share-weighted ideal cycle time). Shares: the scenario's ``product_mix``, else the
  ``mix`` frame (line_id, product_id, qty: e.g. the last machine's MES counts; the KPI marts carry
  no product), else equal shares of the products every machine of the line has a cycle time for.
* Performance, scrap and utilisation (operating share of planned busy time, to turn wall-clock
  hours into operating hours): trailing 28 days, weighted by production hours and shrunk towards the
  prior with 40 pseudo-hours (half a week of two shifts), so a machine with 4 h of history keeps
  ~90 % of the prior and one with 300 h keeps ~12 %.
* Idle (ISO 22400: planned busy time neither running, set up nor down; minor stops, waiting for
  material or an operator, start-up and clean-up): ``idle`` = idle / (running + idle) hours, trailing
  28 days, shrunk towards 0.10 with 40 pseudo-hours. The engine has no idle state, so a machine
  "operates" through its idle: ``performance`` passed to the engine is KPI performance x
  (1 - idle), and the failure clock, which ticks in running hours in the history, is stretched by
  1 / (1 - idle) (TBF scale, and the wall-clock to operating-hours factor of the near-term risk).
  Without this the engine ran machines 100 % of their up time: the virtual plant idles 12-16 % of
  it, so every machine's capacity was ~15 % too high (bench/fidelity.py, BENCHMARKS.md Fidelity).
  The marts carry no idle reason, so starvation and blocking count as idle too; the engine gets
  each machine's *own* idle from ``twin.simulation.idle_calibration`` (the share with which the engine itself
  reproduces every machine's observed running share), not the raw idle share. Short waits are
  booked by the MES as micro-stops inside running time (lower KPI performance): the calibrated own
  idle is then negative, which gives the engine back the speed it would otherwise lose twice.
* Failures: operating hours between failures = production hours (or, on days without MES, shift
  hours x prior utilisation) / failures over the last 365 days. Gamma shrinkage: the plant pools
  all machines with one pseudo-failure at the prior MTBF, each machine gets one pseudo-failure at
  the pooled MTBF. Exponential, or Weibull (shape by censored MLE on day-resolution operating
  clocks, mean kept) from 10 failures of a machine. Repairs: lognormal, mean shrunk with 3
  pseudo-repairs towards the pooled mean, cv from all repairs (prior when fewer than 10).
* Near-term risk (latest score per machine, ignored when older than 72 h): hours-to-failure p10/p90
  (wall-clock, shifted by the score's age, mapped to operating hours through the line's shifts and
  the utilisation) give ``first_tbf = Weibull.from_quantiles``; when p90 reaches the model's cap
  (720 h, right-censored) the calibrated p_failure_72h gives ``HazardThen`` over those 72 h.
* Planned maintenance: ``twin.simulation.pm_plan`` (after the machine's last PREVENTIVE order, at a shift
  start, as the virtual plant does).
* Week-to-week variation of output beyond failures: ``twin.simulation.weekly_variation`` (``weekly_cv``).
* Changeovers (two or more products in the mix; none for one): ``setup_h`` = ``changeover_min``,
  ``setup_every_h`` = setup_h / (setup hours per operating hour), the trailing 28 days' setup
  hours over running + idle hours, shrunk with 40 pseudo-hours towards one changeover per shift
  (mean shift length x utilisation operating hours, also the value without history). A line
  changes over only when the next order's product differs: the virtual plant's L1 (two products,
  drawn per shift) set up on about half its shifts, ~1.1 x changeover_min each, so one per shift
  cost its 35-min mill 2.8 % of its time too much.

Scenario changes: ``pm_window_moved`` moves the planned windows (``twin.simulation.pm_plan``); ``line_down`` stops the line from a
site-local midnight for N x 24 h; ``extra_shift`` adds shift windows (holidays respected);
``added_machine`` adds parallel machines at a station (``bottleneck`` = lowest expected good output
per open hour, from the fitted baseline); ``product_mix`` replaces the shares.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from twin.plant.calendar import day_window, local_date_of, shift_windows
from twin.plant.model import Machine, Plant, Shift
from twin.simulation.idle_calibration import calibrate_own_idle, stretched
from twin.simulation.line_model import (
    Distribution,
    Exponential,
    HazardThen,
    Interval,
    LineParams,
    LogNormal,
    MachineParams,
    Weibull,
    overlap,
    union,
)
from twin.simulation.pm_plan import last_pm, pm_windows
from twin.simulation.scenarios import (
    AddedMachine,
    ExtraShift,
    LineDown,
    PmWindowMoved,
    ProductMix,
    Scenario,
    check_ids,
)
from twin.simulation.weekly_variation import fit_weekly_cv


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
    weibull_min_failures: int = 10
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
    tbf: Distribution  # in running hours, as in the history (see ``engine_params`` for idle)
    repair: LogNormal
    failures: int
    exposure_h: float
    idle: float = 0.0
    setup_seen_h: float = 0.0  # setup hours in the trailing kpi_days
    operating_seen_h: float = 0.0  # running + idle hours on the same days


# ---------------------------------------------------------------- horizon and calendar


def day_edges(
    plant: Plant, start: dt.datetime, weeks: int
) -> tuple[tuple[float, ...], list[dt.date]]:
    """Bucket edges (hours from ``start``) at site-local midnights, and the local date of each day.

    The horizon runs from ``start`` to the local midnight ending day ``7 * weeks`` (the first day is
    partial when ``start`` is not a local midnight; pass a Monday 00:00 for whole weeks).
    """
    first = local_date_of(plant, start)
    dates = [first + dt.timedelta(days=i) for i in range(7 * weeks)]
    edges = [0.0] + [_h(start, day_window(plant, d).end) for d in dates]
    return tuple(edges), dates


def _h(start: dt.datetime, t: dt.datetime) -> float:
    return (t - start).total_seconds() / 3600


def _shift_hours(plant: Plant, shifts: list[Shift], start: dt.datetime, dates: list[dt.date]):
    """Windows of ``shifts`` over the horizon as (start_h, end_h), clipped to it."""
    calendar = plant.calendar.model_copy(update={"shifts": shifts})
    cal_plant = plant.model_copy(update={"calendar": calendar})
    end = _h(start, day_window(plant, dates[-1]).end)
    windows = shift_windows(cal_plant, dates[0] - dt.timedelta(days=1), dates[-1])
    out = [(max(_h(start, w.start), 0.0), min(_h(start, w.end), end)) for w in windows]
    return [(a, b) for a, b in out if b > a]


# ---------------------------------------------------------------- fitting from history


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
        if n >= priors.weibull_min_failures:
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


def _day_shift_hours(plant: Plant, dates: list[dt.date]) -> dict[dt.date, float]:
    hours: dict[dt.date, float] = dict.fromkeys(dates, 0.0)
    if dates:
        for w in shift_windows(plant, dates[0], dates[-1]):
            if w.local_date in hours:
                hours[w.local_date] += w.hours
    return hours


def _weibull_shape(days: pd.DataFrame, fails: pd.DataFrame) -> float | None:
    """Censored MLE of the Weibull shape from gaps in operating hours (day resolution).

    Each failure sits mid-day on the machine's cumulative exposure clock; the first gap is dropped
    (the history does not start at a renewal), the time after the last failure is censored.
    """
    days = days.sort_values("date")
    before = days["exposure"].cumsum() - days["exposure"]
    clock = dict(zip(days["date"], before + days["exposure"] / 2, strict=True))
    at = np.sort([clock[d] for d in fails["date"] if d in clock])
    if len(at) < 3:
        return None
    gaps = np.maximum(np.diff(at), 0.1)
    tail = max(float(days["exposure"].sum()) - at[-1], 0.1)
    t = np.append(gaps, tail)
    log_obs = np.log(gaps).mean()

    def score(k: float) -> float:
        tk = t**k
        return float((tk * np.log(t)).sum() / tk.sum() - 1 / k - log_obs)

    # the score rises with k; shapes outside [0.5, 5] are not believable for machine failures
    # (5 = gaps within about +-25 %), so a root outside is clipped to the nearer bound
    lo, hi = 0.5, 5.0
    if score(hi) <= 0:
        return hi
    if score(lo) >= 0:
        return lo
    return float(brentq(score, lo, hi))


# ---------------------------------------------------------------- near-term risk


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
    age = _h(pd.Timestamp(row["as_of"]).to_pydatetime(), start)
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


def _latest_risk(risk: pd.DataFrame | None, start: dt.datetime) -> dict[str, pd.Series]:
    if risk is None or len(risk) == 0:
        return {}
    r = risk.assign(as_of=pd.to_datetime(risk["as_of"]))
    r = r[r["as_of"] <= pd.Timestamp(start) + pd.Timedelta(hours=1)].sort_values("as_of")
    return {
        str(mid): row
        for mid, row in r.groupby("machine_id").tail(1).set_index("machine_id").iterrows()
    }


# ---------------------------------------------------------------- product mix and rates


def _shares(
    plant: Plant, line_id: str, mix: pd.DataFrame | None, scenario: Scenario
) -> dict[str, float]:
    line = next(x for x in plant.lines if x.id == line_id)
    for c in scenario.of_type(ProductMix):
        if c.line == line_id:
            return {p: s for p, s in c.shares.items() if s > 0}
    common = set.intersection(*(set(m.ideal_cycle_time_s) for m in line.machines))
    if mix is not None and len(mix):
        hist = mix[(mix["line_id"] == line_id) & mix["product_id"].isin(common)]
        qty = hist.groupby("product_id")["qty"].sum()
        if qty.sum() > 0:
            return {str(p): float(q / qty.sum()) for p, q in qty.items() if q > 0}
    return {p: 1 / len(common) for p in sorted(common)}


def _rate(machine: Machine, shares: dict[str, float]) -> float:
    """Parts per hour at ideal speed: products it lacks are dropped and the rest renormalised."""
    own = {p: s for p, s in shares.items() if p in machine.ideal_cycle_time_s} or {
        p: 1.0 for p in machine.ideal_cycle_time_s
    }
    total = sum(own.values())
    return 3600.0 / sum(s / total * machine.ideal_cycle_time_s[p] for p, s in own.items())


def station_capacity(line: LineParams, availability: bool = True) -> np.ndarray:
    """Good units at the line's exit per open hour that each station alone would allow.

    count x effective rate x setup share x (yield of this and every later station), times the
    station's steady-state availability MTBF / (MTBF + MTTR) when ``availability``.
    """
    y = np.array([1 - m.scrap for m in line.machines])
    out = []
    for s, (m, c) in enumerate(zip(line.machines, line.counts, strict=True)):
        cap = c * m.effective_rate * float(np.prod(y[s:]))
        if m.setup_every_h is not None:
            cap *= m.setup_every_h / (m.setup_every_h + m.setup_h)
        if availability and m.tbf is not None:
            cap *= m.tbf.mean / (m.tbf.mean + m.repair.mean)
        out.append(cap)
    return np.array(out)


# ---------------------------------------------------------------- assembly


def build_line_params(
    plant: Plant,
    kpis: pd.DataFrame | None,
    failures: pd.DataFrame | None,
    risk: pd.DataFrame | None,
    scenario: Scenario,
    start: dt.datetime,
    *,
    work_orders: pd.DataFrame | None = None,
    mix: pd.DataFrame | None = None,
    priors: Priors = Priors(),
) -> dict[str, LineParams]:
    """Engine parameters of every line for ``scenario`` over its horizon, day buckets."""
    check_ids(scenario, plant)
    edges, dates = day_edges(plant, start, scenario.horizon_weeks)
    fits = fit_machines(plant, kpis, failures, start, priors)
    context = _Context(
        plant, scenario, start, edges, dates, fits, mix, priors, last_pm(work_orders, start)
    )
    # own idle: the history's idle without the starving and blocking the engine simulates itself
    raw = _assemble(context, dict.fromkeys(fits, 0.0), {})
    own = calibrate_own_idle(list(raw.values()), {m: f.idle for m, f in fits.items()})
    weekly_cv = fit_weekly_cv(plant, kpis, local_date_of(plant, start))
    out = _assemble(context, own, _latest_risk(risk, start))
    return {k: dataclasses.replace(v, weekly_cv=weekly_cv[k]) for k, v in out.items()}


@dataclasses.dataclass(frozen=True)
class _Context:
    plant: Plant
    scenario: Scenario
    start: dt.datetime
    edges: tuple[float, ...]
    dates: list[dt.date]
    fits: dict[str, MachineFit]
    mix: pd.DataFrame | None
    priors: Priors
    last_pm: dict[str, dt.datetime]


def _assemble(
    c: _Context, idle: dict[str, float], risk_rows: dict[str, pd.Series]
) -> dict[str, LineParams]:
    """LineParams per line with each machine's own ``idle`` (share of running + idle hours)."""
    plant, scenario, start, dates = c.plant, c.scenario, c.start, c.dates
    end_h = c.edges[-1]
    base = _shift_hours(plant, list(plant.calendar.shifts), start, dates)
    shift_starts = np.array([a for a, _ in base])
    mean_shift_h = float(np.mean([s.hours() for s in plant.calendar.shifts]))
    out: dict[str, LineParams] = {}
    for line in plant.lines:
        extra = [
            Shift(name=x.name, start=x.start, end=x.end, days=x.days)
            for x in scenario.of_type(ExtraShift)
            if x.lines is None or line.id in x.lines
        ]
        shifts = union(base, _shift_hours(plant, extra, start, dates) if extra else [])
        shares = _shares(plant, line.id, c.mix, scenario)
        machines = []
        for m in line.machines:
            fit = c.fits[m.id]
            moves = [
                x
                for x in scenario.of_type(PmWindowMoved)
                if x.machine in ("all", m.id) and x.line in (None, line.id)
            ]
            changeovers = len(shares) > 1 and m.changeover_min > 0
            # engine operating hours = running + own idle hours (module doc, "Idle")
            keep = 1.0 - idle[m.id]
            tbf = stretched(fit.tbf, 1.0 / keep)
            machines.append(
                MachineParams(
                    id=m.id,
                    rate_per_h=_rate(m, shares),
                    performance=min(fit.performance * keep, 1.0),
                    scrap=fit.scrap,
                    tbf=tbf,
                    repair=fit.repair,
                    first_tbf=first_failure(
                        risk_rows.get(m.id),
                        tbf,
                        shifts,
                        min(fit.utilisation / keep, 1.0),
                        start,
                        c.priors,
                    ),
                    planned=tuple(
                        pm_windows(plant, m, c.last_pm.get(m.id), start, end_h, shift_starts, moves)
                    ),
                    setup_every_h=_setup_every(fit, m, mean_shift_h, c.priors)
                    if changeovers
                    else None,
                    setup_h=m.changeover_min / 60 if changeovers else 0.0,
                )
            )
        params = LineParams(
            id=line.id,
            machines=tuple(machines),
            buffers=(line.buffer_capacity,) * (len(machines) - 1),
            shifts=tuple((float(a), float(b)) for a, b in shifts),
            horizon_h=end_h,
            bucket_edges=c.edges,
            line_down=_line_down(plant, scenario, line.id, start, dates, end_h),
        )
        out[line.id] = _add_machines(params, scenario)
    return out


def _setup_every(fit: MachineFit, machine: Machine, mean_shift_h: float, priors: Priors) -> float:
    """Operating hours between changeovers: history's setup share, shrunk to one per shift."""
    setup_h = machine.changeover_min / 60
    prior = setup_h / (mean_shift_h * fit.utilisation)  # setup hours per operating hour
    w = priors.weight_h
    share = (fit.setup_seen_h + prior * w) / (fit.operating_seen_h + w)
    return setup_h / max(share, 1e-6)


def _line_down(
    plant: Plant,
    scenario: Scenario,
    line_id: str,
    start: dt.datetime,
    dates: list[dt.date],
    end_h: float,
) -> tuple[Interval, ...]:
    out = []
    for c in scenario.of_type(LineDown):
        if c.line != line_id:
            continue
        day = c.start_date or dates[0] + dt.timedelta(days=math.floor(c.start_day or 0))
        if not dates[0] <= day <= dates[-1]:
            raise scenario.error(
                f"line_down of {line_id} starts on {day}, outside the horizon {dates[0]}..{dates[-1]}"
            )
        t0 = _h(start, day_window(plant, day).start) + 24 * ((c.start_day or 0) % 1)
        out.append((max(t0, 0.0), min(t0 + 24 * c.days, end_h)))
    return tuple((float(a), float(b)) for a, b in union(out))


def _add_machines(line: LineParams, scenario: Scenario) -> LineParams:
    counts = list(line.counts)
    for c in scenario.of_type(AddedMachine):
        if c.line != line.id:
            continue
        if c.station == "bottleneck":
            # the baseline constraint: lowest expected good output per open hour (fitted rates,
            # yields, changeovers and availability), i.e. what the KPIs say limits the line
            s = int(np.argmin(station_capacity(dataclasses.replace(line, parallel=tuple(counts)))))
        else:
            s = line.machine_ids.index(c.station)
        counts[s] += c.count
    return (
        dataclasses.replace(line, parallel=tuple(counts)) if counts != list(line.counts) else line
    )
