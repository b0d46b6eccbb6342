"""Idle time (minor stops, waiting, start-up) from the KPI history reaches the engine parameters:
the rate is cut by the idle share and the failure clock stretched so failures per running hour stay;
changeovers come as often as the history's setup hours say, shrunk towards one per shift."""

import datetime as dt

import pandas as pd
import pytest

from twin.plant.model import parse_plant
from twin.simulation.line_params import build_line_params
from twin.simulation.machine_fit import Priors, fit_machines
from twin.simulation.scenarios import Scenario

PLANT = parse_plant(
    {
        "site": {"id": "S1", "name": "test", "timezone": "Europe/Berlin"},
        "calendar": {
            "shifts": [
                {"name": "early", "start": "06:00", "end": "14:00",
                 "days": ["mon", "tue", "wed", "thu", "fri"]}
            ]
        },
        "products": [{"id": "P1", "family": "f"}, {"id": "P2", "family": "f"}],
        "lines": [
            {"id": "A", "buffer_capacity": 5,
             "machines": [{"id": "A1", "type": "mill", "changeover_min": 30,
                           "ideal_cycle_time_s": {"P1": 30.0, "P2": 40.0}}]},
            {"id": "B", "buffer_capacity": 5,
             "machines": [{"id": "B1", "type": "press", "ideal_cycle_time_s": {"P1": 30.0}}]}
        ],
    }
)  # fmt: skip
START = dt.datetime(2026, 6, 28, 22)  # Monday 2026-06-29 00:00 Berlin
BASE = Scenario(id="baseline", horizon_weeks=2, replications=10)


def _kpis(days: int, idle_h: float | None, machine: str = "B1", **cols) -> pd.DataFrame:
    dates = [dt.date(2026, 6, 29) - dt.timedelta(days=i) for i in range(1, days + 1)]
    frame = {
        "machine_id": machine,
        "date": dates,
        "production_hours": 6.0,
        "planned_busy_hours": 8.0,
        "performance": 0.9,
        "scrap_rate": 0.02,
    }
    if idle_h is not None:
        frame["idle_hours"] = idle_h
    return pd.DataFrame({**frame, **cols})


def test_idle_share_is_hours_weighted_and_shrunk_towards_the_prior() -> None:
    fit = fit_machines(PLANT, _kpis(20, 1.5), None, START)["B1"]  # 120 h run, 30 h idle
    assert fit.idle == pytest.approx((30.0 + 0.10 * 40) / (150.0 + 40))
    assert fit_machines(PLANT, _kpis(20, None), None, START)["B1"].idle == pytest.approx(0.10)
    assert fit_machines(PLANT, None, None, START)["B1"].idle == pytest.approx(0.10)
    quiet = fit_machines(PLANT, _kpis(20, 0.0), None, START, Priors(idle=0.0))["B1"]
    assert quiet.idle == 0.0


def test_idle_cuts_the_rate_and_stretches_the_failure_clock() -> None:
    kpis = _kpis(20, 1.5)
    fit = fit_machines(PLANT, kpis, None, START)["B1"]
    b1 = build_line_params(PLANT, kpis, None, None, BASE, START)["B"].machines[0]
    assert b1.performance == pytest.approx(fit.performance * (1 - fit.idle))
    # failures per running hour unchanged: the engine's operating hours include the idle
    assert b1.tbf.mean == pytest.approx(fit.tbf.mean / (1 - fit.idle))
    none = build_line_params(PLANT, kpis, None, None, BASE, START, priors=Priors(idle=0.0))
    assert none["B"].machines[0].performance > b1.performance


def test_changeovers_as_often_as_the_history_sets_up() -> None:
    # 20 days: 120 h running + 30 h idle, 5 h of setup = one 30-min changeover every 15 h
    kpis = _kpis(20, 1.5, machine="A1", setup_hours=0.25)
    fit = fit_machines(PLANT, kpis, None, START)["A1"]
    assert (fit.setup_seen_h, fit.operating_seen_h) == pytest.approx((5.0, 150.0))
    a1 = build_line_params(PLANT, kpis, None, None, BASE, START)["A"].machines[0]
    prior = 0.5 / (8.0 * fit.utilisation)  # one per 8-h shift
    assert a1.setup_every_h == pytest.approx(0.5 / ((5.0 + prior * 40) / (150.0 + 40)))
    assert 8.0 * fit.utilisation < a1.setup_every_h < 15.0
    # no setup history: one changeover per shift, as before
    bare = build_line_params(PLANT, None, None, None, BASE, START)["A"].machines[0]
    assert bare.setup_every_h == pytest.approx(8.0 * 0.85)
