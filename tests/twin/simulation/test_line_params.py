"""Engine parameters from history: priors, shrinkage, near-term risk, maintenance and changes.

A two-line plant: A (A1 -> A2, two products, A2 the slow station) and B (one machine), one early
shift Mon-Fri, Europe/Berlin; the horizon starts Monday 2026-06-29 00:00 local.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.support.small_plant import BASE, PLANT, START, scenario
from twin.simulation.line_model import Exponential, PiecewiseHazard, Weibull
from twin.simulation.line_params import build_line_params
from twin.simulation.machine_fit import Priors, fit_machines
from twin.simulation.near_term_risk import first_failure
from twin.simulation.scenarios import ScenarioError


def kpis(machine: str, days: int, hours: float = 8.0, **cols) -> pd.DataFrame:
    dates = [dt.date(2026, 6, 29) - dt.timedelta(days=i) for i in range(1, days + 1)]
    frame = {
        "machine_id": machine,
        "date": dates,
        "production_hours": hours,
        "planned_busy_hours": hours / 0.8,
        "performance": 0.8,
        "scrap_rate": 0.05,
    }
    return pd.DataFrame({**frame, **cols})


def failures(machine: str, repairs: list[float], every_days: float = 10.0) -> pd.DataFrame:
    started = [START - dt.timedelta(days=every_days * (i + 1)) for i in range(len(repairs))]
    return pd.DataFrame({"machine_id": machine, "started_at": started, "repair_hours": repairs})


def test_without_history_every_machine_gets_the_priors() -> None:
    fits = fit_machines(PLANT, None, None, START)
    for fit in fits.values():
        assert fit.tbf == Exponential(150.0)
        assert fit.repair.mean == pytest.approx(2.5)
        assert fit.repair.cv == pytest.approx(0.7)
        assert (fit.performance, fit.scrap, fit.utilisation) == pytest.approx((0.9, 0.02, 0.85))


def test_mtbf_and_mttr_from_failures_are_shrunk_towards_the_plant() -> None:
    # 100 days x 10 production hours on A1 with 4 failures (repairs 2 h and 4 h twice)
    hist = kpis("A1", 100, hours=10.0)
    fits = fit_machines(PLANT, hist, failures("A1", [2.0, 4.0, 2.0, 4.0]), START)
    pooled_rate = (4 + 1) / (1000.0 + 150.0)  # one pseudo-failure at the 150 h prior
    assert fits["A1"].tbf.mean == pytest.approx((1000.0 + 1 / pooled_rate) / (4 + 1))
    # a machine with no failures and no exposure gets the pooled MTBF
    assert fits["B1"].tbf.mean == pytest.approx(1 / pooled_rate)
    pooled_mttr = (12.0 + 3 * 2.5) / (4 + 3)
    assert fits["A1"].repair.mean == pytest.approx((12.0 + 3 * pooled_mttr) / (4 + 3))
    assert fits["B1"].repair.mean == pytest.approx(pooled_mttr)
    assert fits["A1"].failures == 4
    assert fits["A1"].exposure_h == pytest.approx(1000.0)


def test_days_without_mes_count_shift_hours_times_utilisation_as_exposure() -> None:
    hist = kpis("A1", 14, hours=np.nan)
    fit = fit_machines(PLANT, hist, None, START)["A1"]
    # 14 days back from Sunday 28 June: 10 weekdays x 8 h (no holiday in June) x 0.85
    assert fit.exposure_h == pytest.approx(10 * 8 * 0.85)


def test_performance_and_scrap_are_hours_weighted_and_shrunk() -> None:
    fit = fit_machines(PLANT, kpis("A1", 10), None, START)["A1"]  # 80 h at 0.8 / 5 %
    assert fit.performance == pytest.approx((0.8 * 80 + 0.9 * 40) / 120)
    assert fit.scrap == pytest.approx((0.05 * 80 + 0.02 * 40) / 120)
    assert fit.utilisation == pytest.approx((80 + 0.85 * 40) / (100 + 40))
    old = fit_machines(PLANT, kpis("A1", 60).iloc[30:], None, START)["A1"]
    assert old.performance == pytest.approx(0.9)  # older than 28 days: prior only


def test_weibull_from_enough_failures_with_regular_gaps() -> None:
    # 12 failures exactly 5 days (40 production hours) apart: wear-out, shape well above 1
    hist = kpis("A1", 70)
    fails = failures("A1", [2.0] * 12, every_days=5.0)
    tbf = fit_machines(PLANT, hist, fails, START)["A1"].tbf
    assert isinstance(tbf, Weibull)
    assert tbf.shape > 2
    assert tbf.mean == pytest.approx((70 * 8 + 1 / ((12 + 1) / (560 + 150))) / 13)


def test_near_term_risk_sets_first_tbf() -> None:
    shifts = np.array([(d * 24 + 8.0, d * 24 + 16.0) for d in range(21) if d % 7 < 5])
    tbf = Exponential(150.0)
    row = pd.Series(
        {
            "as_of": START,
            "p_failure_72h": 0.6,
            "hours_to_failure_p10": 24.0,
            "hours_to_failure_p50": 48.0,
            "hours_to_failure_p90": 96.0,
        }
    )
    first = first_failure(row, tbf, shifts, 1.0, START)
    # the three quantiles and p_failure_72h (S(72 h) = 0.4 lies between S(p50) and S(p90)) are
    # survival points; 24 wall h = 8 open h (one 8 h shift a day), 96 wall h = 32 open h
    assert isinstance(first, PiecewiseHazard)
    assert first.knots == pytest.approx((8.0, 16.0, 24.0, 32.0))
    rng = np.random.default_rng(0)
    draws = first.sample(rng, 40000)
    assert np.quantile(draws, [0.1, 0.5, 0.9]) == pytest.approx([8.0, 16.0, 32.0], rel=0.03)
    assert (draws <= 24.0).mean() == pytest.approx(0.6, abs=0.01)
    assert draws.mean() == pytest.approx(first.mean, rel=0.03)
    censored = row.copy()
    censored["hours_to_failure_p90"] = 720.0  # the model's cap: right-censored, dropped
    law = first_failure(censored, tbf, shifts, 1.0, START)
    assert law.knots == pytest.approx((8.0, 16.0, 24.0))  # p10, p50, 72 h = 3 shifts
    assert law.survival == pytest.approx((0.9, 0.5, 0.4))
    late = law.sample(np.random.default_rng(1), 40000)
    assert (late > 24.0).mean() == pytest.approx(0.4, abs=0.01)
    assert late[late > 24.0].mean() - 24.0 == pytest.approx(150.0, rel=0.05)  # then the TBF
    only_72 = censored.copy()
    only_72[["hours_to_failure_p10", "hours_to_failure_p50"]] = 720.0
    hazard = first_failure(only_72, tbf, shifts, 1.0, START)
    assert hazard.knots == pytest.approx((24.0,))
    assert hazard.survival == pytest.approx((0.4,))
    at_72 = row.copy()
    at_72["hours_to_failure_p50"] = 72.0  # a quantile at 72 h already says S(72 h)
    assert first_failure(at_72, tbf, shifts, 1.0, START).survival == pytest.approx((0.9, 0.5, 0.1))
    inconsistent = row.copy()
    inconsistent["p_failure_72h"] = 0.05  # S(72 h) = 0.95 above S(p10): the quantiles win
    assert first_failure(inconsistent, tbf, shifts, 1.0, START).survival == pytest.approx(
        (0.9, 0.5, 0.1)
    )
    stale = row.copy()
    stale["as_of"] = START - dt.timedelta(days=5)
    assert first_failure(stale, tbf, shifts, 1.0, START) is None


def test_risk_scores_reach_the_machine_params() -> None:
    risk = pd.DataFrame(
        {
            "machine_id": ["A1"],
            "as_of": [START - dt.timedelta(hours=2)],
            "p_failure_72h": [0.9],
            "hours_to_failure_p10": [720.0],
            "hours_to_failure_p50": [720.0],
            "hours_to_failure_p90": [720.0],
            "failure_mode": ["bearing_wear"],
        }
    )
    lines = build_line_params(PLANT, None, None, risk, BASE, START)
    a1, a2 = lines["A"].machines
    assert isinstance(a1.first_tbf, PiecewiseHazard)
    assert a1.first_tbf.mean < a1.tbf.mean / 3
    assert a2.first_tbf is None


def test_rates_use_equal_shares_by_default_and_the_scenario_mix() -> None:
    a1 = build_line_params(PLANT, None, None, None, BASE, START)["A"].machines[0]
    assert a1.rate_per_h == pytest.approx(3600 / 42.0)  # (36 + 48) / 2
    assert a1.setup_h == pytest.approx(0.5)  # two products: one changeover per shift
    assert a1.setup_every_h == pytest.approx(8 * 0.85)
    mixed = scenario({"type": "product_mix", "line": "A", "shares": {"P1": 0.25, "P2": 0.75}})
    a1 = build_line_params(PLANT, None, None, None, mixed, START)["A"].machines[0]
    assert a1.rate_per_h == pytest.approx(3600 / (0.25 * 36 + 0.75 * 48))
    single = scenario({"type": "product_mix", "line": "A", "shares": {"P1": 1.0}})
    assert (
        build_line_params(PLANT, None, None, None, single, START)["A"].machines[0].setup_every_h
        is None
    )
    history = pd.DataFrame({"line_id": ["A", "A"], "product_id": ["P1", "P2"], "qty": [300, 100]})
    a1 = build_line_params(PLANT, None, None, None, BASE, START, mix=history)["A"].machines[0]
    assert a1.rate_per_h == pytest.approx(3600 / (0.75 * 36 + 0.25 * 48))


def test_shifts_are_horizon_hours_and_respect_holidays() -> None:
    line = build_line_params(PLANT, None, None, None, BASE, START)["A"]
    assert line.shifts[0] == (6.0, 14.0)  # Monday 06:00-14:00 local, hours from local midnight
    assert len(line.shifts) == 14  # 15 weekdays minus the Friday holiday
    assert all(not (4 * 24 <= a < 5 * 24) for a, _ in line.shifts)
    assert line.bucket_edges == tuple(24.0 * d for d in range(22))


def test_planned_maintenance_is_anchored_on_the_last_preventive_order() -> None:
    line = build_line_params(PLANT, None, None, None, BASE, START)["A"]
    # no work order: due every_days after the start, done in the first shift at or after it
    assert line.machines[0].planned == (
        (7 * 24 + 6.0, 7 * 24 + 8.0),
        (14 * 24 + 6.0, 14 * 24 + 8.0),
    )
    assert line.machines[1].planned == ((14 * 24 + 6.0, 14 * 24 + 9.0),)
    orders = pd.DataFrame(
        {
            "machine_id": ["A2", "A2", "A1"],
            "work_order_type": ["PREVENTIVE", "CORRECTIVE", "PREVENTIVE"],
            "started_at": [START - dt.timedelta(days=10), START, START - dt.timedelta(days=30)],
        }
    )
    line = build_line_params(PLANT, None, None, None, BASE, START, work_orders=orders)["A"]
    # A2: last PM 10 days ago, due on day 4 = Friday 3 July, a holiday: done Monday morning
    assert line.machines[1].planned[0] == (7 * 24 + 6.0, 7 * 24 + 9.0)
    # A1 is overdue: done in the very first shift, then every 7 days
    assert line.machines[0].planned[:2] == ((6.0, 8.0), (7 * 24 + 6.0, 7 * 24 + 8.0))


def test_pm_moves_by_days_or_to_the_weekend() -> None:
    later = scenario({"type": "pm_window_moved", "machine": "A2", "shift_days": 3})
    a1, a2 = build_line_params(PLANT, None, None, None, later, START)["A"].machines
    assert a2.planned == ((17 * 24 + 6.0, 17 * 24 + 9.0),)  # Thursday of week 3
    assert a1.planned[0] == (7 * 24 + 6.0, 7 * 24 + 8.0)  # other machines unchanged
    weekend = scenario({"type": "pm_window_moved", "move_to": "weekend"})
    a1, a2 = build_line_params(PLANT, None, None, None, weekend, START)["A"].machines
    assert a2.planned == ((12 * 24 + 6.0, 12 * 24 + 9.0),)  # the Saturday before the due Monday
    assert all(int(a // 24) % 7 == 5 for a, _ in a1.planned)


def test_line_down_extra_shift_and_added_machine() -> None:
    down = scenario({"type": "line_down", "line": "B", "start_day": 7, "days": 2})
    lines = build_line_params(PLANT, None, None, None, down, START)
    assert lines["B"].line_down == ((7 * 24.0, 9 * 24.0),)
    assert lines["A"].line_down == ()
    sat = scenario(
        {
            "type": "extra_shift",
            "name": "sat",
            "start": "06:00",
            "end": "12:00",
            "days": ["sat"],
            "lines": ["B"],
        }
    )
    lines = build_line_params(PLANT, None, None, None, sat, START)
    assert len(lines["B"].shifts) == 14 + 3
    assert len(lines["A"].shifts) == 14
    added = scenario({"type": "added_machine", "line": "A", "station": "bottleneck"})
    assert build_line_params(PLANT, None, None, None, added, START)["A"].counts == (
        1,
        2,
    )  # A2: 60/h


def test_line_down_outside_the_horizon_is_an_error() -> None:
    late = scenario({"type": "line_down", "line": "B", "start_date": "2026-12-01", "days": 1})
    with pytest.raises(ScenarioError, match="outside the horizon"):
        build_line_params(PLANT, None, None, None, late, START)


def test_priors_can_be_changed() -> None:
    fits = fit_machines(PLANT, None, None, START, Priors(mtbf_h=40.0, mttr_h=1.0))
    assert fits["A1"].tbf.mean == pytest.approx(40.0)
    assert fits["A1"].repair.mean == pytest.approx(1.0)
