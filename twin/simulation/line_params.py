"""From the twin's history and a scenario to engine parameters: ``build_line_params``.

Inputs are pandas frames shaped like the KPI marts (``marts.fct_machine_kpis_daily``,
``marts.fct_failure_events``), the failure-risk scores (``predict_risk``) and, optionally, CMMS work
orders (``staging.stg_cmms__work_orders``, for the last preventive order) and a product mix. Any of
them may be empty: the priors (``twin.simulation.machine_fit.Priors``) then stand in. Time is hours
from ``start`` (naive UTC), day buckets at site-local midnights (``twin.simulation.horizon``).

Estimation (numbers in ``Priors``):

* Rate: 3600 / (share-weighted ideal cycle time). Shares: the scenario's ``product_mix``, else the
  ``mix`` frame (line_id, product_id, qty: e.g. the last machine's MES counts; the KPI marts carry
  no product), else equal shares of the products every machine of the line has a cycle time for.
* Performance, scrap, utilisation, idle share, failures and repairs per machine:
  ``twin.simulation.machine_fit`` (``fit_machines``).
* Idle: the engine has no idle state, so a machine "operates" through its idle: ``performance``
  passed to the engine is KPI performance x (1 - idle), and the failure clock, which ticks in
  running hours in the history, is stretched by 1 / (1 - idle) (TBF scale, and the wall-clock to
  operating-hours factor of the near-term risk).
  Without this the engine ran machines 100 % of their up time: the virtual plant idles 12-16 % of
  it, so every machine's capacity was ~15 % too high (bench/fidelity.py, BENCHMARKS.md Fidelity).
  The marts carry no idle reason, so starvation and blocking count as idle too; the engine gets
  each machine's *own* idle from ``twin.simulation.idle_calibration`` (the share with which the engine itself
  reproduces every machine's observed running share), not the raw idle share. Short waits are
  booked by the MES as micro-stops inside running time (lower KPI performance): the calibrated own
  idle is then negative, which gives the engine back the speed it would otherwise lose twice.
* Near-term risk (``first_tbf``): ``twin.simulation.near_term_risk``.
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
from pathlib import Path

import numpy as np
import pandas as pd

from twin.plant.calendar import day_window, local_date_of
from twin.plant.model import Machine, Plant, Shift
from twin.simulation.horizon import day_edges, hours_from, shift_hours
from twin.simulation.idle_calibration import WEEKS as CALIBRATION_WEEKS
from twin.simulation.idle_calibration import calibrate_own_idle, stretched
from twin.simulation.line_model import (
    Deterministic,
    Distribution,
    Exponential,
    Interval,
    LineParams,
    LogNormal,
    MachineParams,
    Weibull,
    union,
)
from twin.simulation.machine_fit import MachineFit, Priors, fit_machines
from twin.simulation.near_term_risk import (
    first_failure,
    first_repair,
    latest_risk,
    mode_repair_factors,
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
    calibration_cache: Path | None = None,
) -> dict[str, LineParams]:
    """Engine parameters of every line for ``scenario`` over its horizon, day buckets.

    ``calibration_cache``: a folder where the own-idle calibration of this history is kept, so
    the other scenarios of a batch read it instead of computing it again.
    """
    check_ids(scenario, plant)
    edges, dates = day_edges(plant, start, scenario.horizon_weeks)
    fits = fit_machines(plant, kpis, failures, start, priors)
    context = _Context(
        plant,
        scenario,
        start,
        edges,
        dates,
        fits,
        mix,
        priors,
        last_pm(work_orders, start),
        mode_repair_factors(failures, start, priors),
    )
    own = _own_idle(context, calibration_cache)
    weekly_cv = fit_weekly_cv(plant, kpis, local_date_of(plant, start))
    out = _assemble(context, own, latest_risk(risk, start))
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
    mode_repair: dict[str, float]  # failure mode -> repair-time factor (near_term_risk)


def _own_idle(c: _Context, cache: Path | None) -> dict[str, float]:
    """Own idle per station: the history's idle without the starving and blocking the engine
    simulates itself, calibrated under the history's conditions (no scenario change, the
    calibration's weeks), so it is the same for every scenario from this history and start."""
    history_only = c.scenario.model_copy(update={"changes": [], "horizon_weeks": CALIBRATION_WEEKS})
    edges, dates = day_edges(c.plant, c.start, CALIBRATION_WEEKS)
    raw = _assemble(dataclasses.replace(c, scenario=history_only, edges=edges, dates=dates), {}, {})
    return calibrate_own_idle(list(raw.values()), _observed_idle(c.plant, c.fits), cache)


def _assemble(
    c: _Context, idle: dict[str, float], risk_rows: dict[str, pd.Series]
) -> dict[str, LineParams]:
    """LineParams per line with each machine's own ``idle`` (share of running + idle hours)."""
    plant, scenario, start, dates = c.plant, c.scenario, c.start, c.dates
    end_h = c.edges[-1]
    base = shift_hours(plant, list(plant.calendar.shifts), start, dates)
    shift_starts = np.array([a for a, _ in base])
    mean_shift_h = float(np.mean([s.hours() for s in plant.calendar.shifts]))
    out: dict[str, LineParams] = {}
    for line in plant.lines:
        extra = [
            Shift(name=x.name, start=x.start, end=x.end, days=x.days)
            for x in scenario.of_type(ExtraShift)
            if x.lines is None or line.id in x.lines
        ]
        shifts = union(base, shift_hours(plant, extra, start, dates) if extra else [])
        shares = _shares(plant, line.id, c.mix, scenario)
        machines = []
        for m in line.machines:
            fit = c.fits[m.id]
            own_idle = idle.get(station_id(line.id, m), 0.0)
            moves = [
                x
                for x in scenario.of_type(PmWindowMoved)
                if x.machine in ("all", m.id) and x.line in (None, line.id)
            ]
            changeovers = len(shares) > 1 and m.changeover_min > 0
            # engine operating hours = running + own idle hours (module doc, "Idle")
            keep = 1.0 - own_idle
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
                    first_repair=first_repair(risk_rows.get(m.id), fit.repair, c.mode_repair),
                    planned=tuple(
                        pm_windows(plant, m, c.last_pm.get(m.id), start, end_h, shift_starts, moves)
                    ),
                    setup_every_h=_setup_every(fit, m, mean_shift_h, c.priors)
                    if changeovers
                    else None,
                    setup_h=m.changeover_min / 60 if changeovers else 0.0,
                )
            )
        by_id = {m.id: x for m, x in zip(line.machines, machines, strict=True)}
        stations = [[by_id[m.id] for m in group] for group in line.stations]
        declared = any(len(group) > 1 for group in stations)
        if declared:
            machines = [
                x[0] if len(x) == 1 else combine_station(station_id(line.id, g[0]), x)
                for x, g in zip(stations, line.stations, strict=True)
            ]
        params = LineParams(
            id=line.id,
            machines=tuple(machines),
            parallel=tuple(len(x) for x in stations) if declared else None,
            members=tuple(tuple(m.id for m in x) for x in stations) if declared else None,
            buffers=(line.buffer_capacity,) * (len(machines) - 1),
            shifts=tuple((float(a), float(b)) for a, b in shifts),
            horizon_h=end_h,
            bucket_edges=c.edges,
            bucket_week=_bucket_weeks(dates),
            line_down=_line_down(plant, scenario, line.id, start, dates, end_h),
        )
        out[line.id] = _add_machines(params, scenario)
    return out


def _bucket_weeks(dates: list[dt.date]) -> tuple[int, ...]:
    """Calendar week of each day bucket, 0 = the (possibly partial) week of the horizon start."""
    monday = dates[0] - dt.timedelta(days=dates[0].weekday())
    return tuple((d - monday).days // 7 for d in dates)


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
        day = c.start_date or _first_monday(plant, start, dates) + dt.timedelta(
            days=math.floor(c.start_day or 0)
        )
        if not dates[0] <= day <= dates[-1]:
            raise scenario.error(
                f"line_down of {line_id} starts on {day}, outside the horizon {dates[0]}..{dates[-1]}"
            )
        t0 = hours_from(start, day_window(plant, day).start) + 24 * ((c.start_day or 0) % 1)
        out.append((max(t0, 0.0), min(t0 + 24 * c.days, end_h)))
    return tuple((float(a), float(b)) for a, b in union(out))


def _first_monday(plant: Plant, start: dt.datetime, dates: list[dt.date]) -> dt.date:
    """The Monday of the first whole week: where ``start_day`` counts from (``scenarios``)."""
    monday = dates[0] - dt.timedelta(days=dates[0].weekday())
    whole = hours_from(start, day_window(plant, monday).start) == 0
    return monday if whole else monday + dt.timedelta(weeks=1)


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
            s = line.station_of(c.station)  # a machine id names its (declared) station
        counts[s] += c.count
    return (
        dataclasses.replace(line, parallel=tuple(counts)) if counts != list(line.counts) else line
    )


# ---------------------------------------------------------------- declared stations


def station_id(line_id: str, machine: Machine) -> str:
    """The engine id of the station ``machine`` works at: its own id, or ``line/station`` for a
    declared station (the plant's station names need not be unique across lines)."""
    return machine.id if machine.station is None else f"{line_id}/{machine.station}"


def _observed_idle(plant: Plant, fits: dict[str, MachineFit]) -> dict[str, float]:
    """Observed idle share per engine station: the machine's own, or its station's mean."""
    out: dict[str, float] = {}
    for line in plant.lines:
        for group in line.stations:
            sid = station_id(line.id, group[0])
            out[sid] = float(np.mean([fits[m.id].idle for m in group]))
    return out


def combine_station(id: str, machines: list[MachineParams]) -> MachineParams:
    """One engine station of ``len(machines)`` identical parallel machines standing for the
    declared station's machines (each built from its own fit as a single machine would be).

    The combination keeps what the station can make, per machine and in total:

    * ``rate_per_h``: the mean ideal rate, so n x rate is the station's summed ideal rate;
      ``performance`` rate-weighted and ``scrap`` weighted by effective rate, so n x effective
      rate and the station's good output per processing hour are exactly those of its machines.
    * Failures: the pooled failure rate of the machines (mean of 1 / MTBF, i.e. the harmonic mean
      MTBF); exponential, or Weibull with the mean shape when every machine's law is Weibull.
      Repairs: lognormal, mean weighted by each machine's failure rate (so the expected repair
      hours per operating hour, sum MTTR_i / MTBF_i, stays that of the machines), mean cv.
    * Near-term risk (``first_tbf``, ``first_repair``): those of the riskiest machine (shortest
      mean time to its first failure), a mixture of laws not being one of the engine's;
      conservative for planners.
    * Planned windows: the engine stops a station's machines together, so the station keeps the
      windows of the machine with the most planned hours (identical parallel machines share a PM
      plan: then exactly each machine's windows; conservative when they differ, and a union
      would stop the whole station for every machine's maintenance).
    * Changeovers: mean interval and mean duration of the machines that change over.
    """
    rates = np.array([m.rate_per_h for m in machines])
    perf = np.array([m.performance for m in machines])
    eff = rates * perf
    scrap = float(np.dot(eff, [m.scrap for m in machines]) / eff.sum())
    failing = [m for m in machines if m.tbf is not None]
    tbf: Distribution | None = None
    repair: Distribution = machines[0].repair
    if failing:
        hazard = np.array([1.0 / m.tbf.mean for m in failing])  # type: ignore[union-attr]
        mtbf = len(machines) / float(hazard.sum())  # never-failing machines count hazard 0
        laws = [m.tbf for m in failing]
        if len(failing) == len(machines) and all(isinstance(x, Weibull) for x in laws):
            k = float(np.mean([x.shape for x in laws]))  # type: ignore[union-attr]
            tbf = Weibull(k, mtbf / math.gamma(1 + 1 / k))
        else:
            tbf = Exponential(mtbf)
        w = hazard / hazard.sum()
        mttr = float(np.dot(w, [m.repair.mean for m in failing]))
        cvs = [getattr(m.repair, "cv", 0.0) for m in failing]
        repair = LogNormal(mttr, float(np.mean(cvs))) if mttr > 0 else Deterministic(0.0)
    firsts = [m for m in machines if m.first_tbf is not None]
    riskiest = min(firsts, key=lambda m: m.first_tbf.mean) if firsts else None  # type: ignore[union-attr]
    setups = [m for m in machines if m.setup_every_h is not None]
    return MachineParams(
        id=id,
        rate_per_h=float(rates.mean()),
        performance=min(float(eff.sum() / rates.sum()), 1.0),
        scrap=scrap,
        tbf=tbf,
        repair=repair,
        first_tbf=riskiest.first_tbf if riskiest else None,
        first_repair=riskiest.first_repair if riskiest else None,
        planned=max(machines, key=lambda m: sum(b - a for a, b in m.planned)).planned,
        setup_every_h=float(np.mean([m.setup_every_h for m in setups])) if setups else None,
        setup_h=float(np.mean([m.setup_h for m in setups])) if setups else 0.0,
    )
