"""Calibration on a plant whose MES books only RUNNING, UNPLANNED_DOWNTIME and OFF.

Starving and blocking then hide inside RUNNING: a machine that is not the line's constraint makes
the line's pace per running hour, so its KPI performance is low although its own speed is not.
The engine must still get each machine's own speed (else it simulates a line of equally slow
machines that cannot catch up after a stoppage), repairs as the open time they cost (the CMMS work
order of a repair that a shift end interrupts spans the night), and week-to-week variation from the
machine that paces the line.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from twin.plant.model import parse_plant
from twin.simulation.capacity import simulate_lines
from twin.simulation.line_params import build_line_params
from twin.simulation.machine_fit import Priors, fit_machines
from twin.simulation.scenarios import Scenario
from twin.simulation.weekly_variation import PRIOR_CV, PRIOR_WEEKS, fit_weekly_cv

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CYCLE_S = {"M1": 30.0, "M2": 40.0, "M3": 25.0}  # M2 paces the line
PLANT = parse_plant(
    {
        "site": {"id": "S", "name": "running-only MES", "timezone": "Europe/Berlin"},
        "calendar": {
            "shifts": [
                {"name": "a", "start": "06:00", "end": "14:00", "days": WEEKDAYS},
                {"name": "b", "start": "14:00", "end": "22:00", "days": WEEKDAYS},
            ]
        },
        "products": [{"id": "W", "family": "f"}],
        "lines": [
            {
                "id": "L",
                "buffer_capacity": 8,
                "machines": [
                    {"id": m, "type": "t", "ideal_cycle_time_s": {"W": ct}}
                    for m, ct in CYCLE_S.items()
                ],
            }
        ],
    }
)
START = dt.datetime(2026, 6, 28, 22)  # Monday 2026-06-29 00:00 Berlin
DAYS = [
    d
    for d in (dt.date(2026, 6, 29) - dt.timedelta(days=i) for i in range(1, 43))
    if d.weekday() < 5
]
SPEED = 0.95  # the constraint's own speed: the line makes 0.95 x 90 parts per running hour
PACE = SPEED * 3600 / CYCLE_S["M2"]


def _running_only_kpis(pace_by_day: dict[dt.date, float] | None = None) -> pd.DataFrame:
    """16 running hours a day on every machine (waits booked as RUNNING), the line's pace each."""
    rows = []
    for d in DAYS:
        made = (pace_by_day or {}).get(d, PACE) * 16
        for m, ct in CYCLE_S.items():
            rows.append(
                {
                    "machine_id": m,
                    "date": d,
                    "production_hours": 16.0,
                    "planned_busy_hours": 16.0,
                    "idle_hours": 0.0,
                    "setup_hours": 0.0,
                    "unplanned_downtime_hours": 0.0,
                    "performance": made * ct / 3600 / 16,  # M1 0.71, M2 0.95, M3 0.59
                    "scrap_rate": 0.0,
                    "good_qty": made,
                }
            )
    return pd.DataFrame(rows)


def test_machines_off_the_constraint_keep_their_speed_and_the_line_its_output() -> None:
    kpis = _running_only_kpis()
    scenario = Scenario(id="baseline", horizon_weeks=2, replications=40)
    lines = build_line_params(PLANT, kpis, None, None, scenario, START)
    engine = {m.id: m.performance for m in lines["L"].machines}
    kpi = fit_machines(PLANT, kpis, None, START)
    assert kpi["M1"].performance < 0.75
    assert kpi["M3"].performance < 0.65
    # off the constraint: at least the constraint's own speed (its ideal speed is the upper bound)
    assert engine["M1"] >= SPEED - 0.02
    assert engine["M3"] >= SPEED - 0.02
    assert engine["M2"] == pytest.approx(SPEED, abs=0.03)
    out = simulate_lines(lines, scenario.replications, scenario.seed)["L"].output
    weekly = out[:, :7].sum(axis=1).mean()
    assert weekly == pytest.approx(PACE * 16 * 5, rel=0.03)


def test_repairs_cost_the_open_hours_they_stop_the_machine_not_the_work_order_span() -> None:
    # every failure Friday 21:00 local, back at work Monday 07:00: 1 h before the late shift ends,
    # 1 h after the early shift starts; the work order spans 58 h
    fridays = [d for d in DAYS if d.weekday() == 4]
    failures = pd.DataFrame(
        {
            "machine_id": "M2",
            "started_at": [dt.datetime.combine(d, dt.time(19)) for d in fridays],  # UTC
            "ended_at": [
                dt.datetime.combine(d + dt.timedelta(days=3), dt.time(5)) for d in fridays
            ],
            "repair_hours": 58.0,
        }
    )
    priors = Priors()
    fit = fit_machines(PLANT, _running_only_kpis(), failures, START, priors)["M2"]
    n = len(fridays)
    pooled = (2.0 * n + priors.mttr_weight * priors.mttr_h) / (n + priors.mttr_weight)
    assert fit.repair.mean == pytest.approx(
        (2.0 * n + priors.mttr_weight * pooled) / (n + priors.mttr_weight), rel=1e-6
    )
    # without an end time the work order's repair hours are all there is
    open_order = failures.assign(ended_at=pd.NaT, repair_hours=3.0)
    kpis = _running_only_kpis()
    assert fit_machines(PLANT, kpis, open_order, START, priors)["M2"].repair.mean > 2.9


def test_weekly_variation_comes_from_the_pacing_machine_when_waits_are_running_time() -> None:
    # the constraint's pace is steady; the history's weekly output moves with its failures only
    # (on the days it was down: 3 h less running, so its output per running hour stays the pace)
    rng = np.random.default_rng(3)
    kpis = _running_only_kpis()
    down = rng.random(len(kpis)) < 0.3
    fast = kpis["machine_id"] != "M2"
    # a machine off the constraint waits (RUNNING) while the constraint is down: fewer parts per
    # running hour on those days, a week-to-week swing that is the failures', not a speed change
    kpis.loc[down & fast, "good_qty"] *= 0.7
    cv = fit_weekly_cv(PLANT, kpis, dt.date(2026, 6, 29))["L"]
    assert cv == pytest.approx(np.sqrt(PRIOR_WEEKS * PRIOR_CV**2 / (5 + PRIOR_WEEKS)), rel=0.05)


def _failures_on_running_clock(gaps: np.ndarray, machine: str) -> pd.DataFrame:
    """Failures ``gaps`` running hours apart on a machine running 06:00-22:00 Berlin on DAYS."""
    days = sorted(DAYS)
    at = np.cumsum(gaps)
    at = at[at < 16 * len(days)]
    starts = [
        dt.datetime.combine(days[int(h // 16)], dt.time(4)) + dt.timedelta(hours=float(h % 16))
        for h in at
    ]  # 06:00 Berlin = 04:00 UTC in summer
    return pd.DataFrame(
        {
            "machine_id": machine,
            "started_at": starts,
            "ended_at": [t + dt.timedelta(hours=1) for t in starts],
            "repair_hours": 1.0,
        }
    )


@pytest.mark.parametrize(("shape", "low", "high"), [(3.0, 2.0, 4.5), (1.0, 0.6, 1.5)])
def test_machines_with_few_failures_share_the_plant_s_wear_out_shape(shape, low, high) -> None:
    # 3 machines, ~11 failures each in 480 running hours: too few for a shape of their own
    rng = np.random.default_rng(11)
    scale = 40.0 / float(np.exp(np.log(rng.weibull(shape, 20000)).mean()))
    failures = pd.concat(
        [_failures_on_running_clock(scale * rng.weibull(shape, 40), m) for m in CYCLE_S],
        ignore_index=True,
    )
    fits = fit_machines(PLANT, _running_only_kpis(), failures, START)
    assert {type(f.tbf).__name__ for f in fits.values()} == {"Weibull"}
    shapes = {round(f.tbf.shape, 6) for f in fits.values()}
    assert len(shapes) == 1  # one plant-wide shape
    assert low < shapes.pop() < high
