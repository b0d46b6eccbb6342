"""Risk in the plan every day: the horizon starts at the last data time, whatever the weekday.

The small plant (early shift 06:00-14:00 Mon-Fri, Berlin) with its data ending at 11:00 site time
on a Monday, a Wednesday and a Friday. Press B1 (line B's only machine) carries a high near-term
risk from the failure model (P(fail <= 72 h) = 0.95, hours to failure p10/p50/p90 = 2/6/20 h),
issued at the last data time. Every case goes through the real path: history frames ->
``planning_start`` -> ``run_scenario_with_effect`` (build_line_params -> simulate_lines ->
capacity_tables -> prediction_effect).
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.support.small_plant import PLANT
from twin.simulation.history import planning_start
from twin.simulation.line_params import build_line_params
from twin.simulation.near_term_risk import mode_repair_factors
from twin.simulation.scenario_run import History, run_scenario_with_effect
from twin.simulation.scenarios import Scenario

BERLIN = PLANT.tz
SCENARIO = Scenario(id="baseline", horizon_weeks=3, replications=200, seed=11)
LAST_DAYS = {  # 2026-07-03 (Friday) is the plant's holiday: the weeks after it are used
    "monday": dt.date(2026, 7, 6),
    "wednesday": dt.date(2026, 7, 8),
    "friday": dt.date(2026, 7, 10),
}


def _utc(day: dt.date, hour: int) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(hour)).replace(tzinfo=BERLIN)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _kpis(last_day: dt.date) -> pd.DataFrame:
    days = [last_day - dt.timedelta(days=i) for i in range(28)]
    return pd.DataFrame(
        [
            {
                "machine_id": m.id,
                "date": d,
                "production_hours": 7.0 if d.weekday() < 5 else None,
                "planned_busy_hours": 8.0 if d.weekday() < 5 else None,
                "performance": 0.9,
                "scrap_rate": 0.02,
            }
            for m in PLANT.machines
            for d in days
        ]
    )


def _failures(last_day: dt.date) -> pd.DataFrame:
    """20 past repairs: loose belts take 1 h, spindle crashes 8 h."""
    rows = []
    for i in range(20):
        rows.append(
            {
                "machine_id": "A1",
                "started_at": _utc(last_day - dt.timedelta(days=30 + i), 9),
                "repair_hours": 1.0 if i % 2 else 8.0,
                "failure_mode": "loose_belt" if i % 2 else "spindle_crash",
            }
        )
    return pd.DataFrame(rows)


def _risk(as_of: dt.datetime, mode: str = "spindle_crash") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "machine_id": ["B1", "A1", "A2"],
            "as_of": [as_of] * 3,
            "p_failure_72h": [0.95, 0.01, 0.01],
            "hours_to_failure_p10": [2.0, 700.0, 700.0],
            "hours_to_failure_p50": [6.0, 720.0, 720.0],
            "hours_to_failure_p90": [20.0, 720.0, 720.0],
            "failure_mode": [mode, "loose_belt", "loose_belt"],
        }
    )


def _history(last_day: dt.date, mode: str = "spindle_crash") -> History:
    end = _utc(last_day, 11)
    return History(
        kpis=_kpis(last_day),
        failures=_failures(last_day),
        risk=_risk(end - dt.timedelta(hours=1), mode),  # hourly scores: the last one, 1 h old
        last_data_at=end,
    )


@pytest.fixture(scope="module", params=list(LAST_DAYS))
def published(request):
    last_day = LAST_DAYS[request.param]
    history = _history(last_day)
    start = planning_start(PLANT, history)
    capacity, _, effect = run_scenario_with_effect(PLANT, SCENARIO, history, start)
    return last_day, start, capacity, effect


def _rows(capacity: pd.DataFrame, resource: str, grain: str) -> pd.DataFrame:
    sel = (
        (capacity["resource_id"] == resource)
        & (capacity["bucket_grain"] == grain)
        & (capacity["quantile"] == "p50")
    )
    return capacity[sel].sort_values("bucket_start").reset_index(drop=True)


def test_the_horizon_starts_at_the_last_data_time(published) -> None:
    last_day, start, capacity, _ = published
    assert start == _utc(last_day, 11)
    days = _rows(capacity, "B", "day")
    assert min(days["bucket_start"]) == last_day  # nothing before the data end, no gap
    assert days["bucket_start"].iloc[0] == last_day
    # the rest of the shift after 11:00: 3 of its 8 hours
    assert days["calendar_hours"].iloc[0] == pytest.approx(3.0)
    assert days["calendar_hours"].iloc[1:].max() == pytest.approx(8.0)


def test_the_first_buckets_are_partial_and_say_so(published) -> None:
    last_day, start, capacity, _ = published
    days, weeks = _rows(capacity, "B", "day"), _rows(capacity, "B", "week")
    assert days["is_partial"].tolist() == [True] + [False] * (len(days) - 1)
    assert days["covered_from_at"].iloc[0] == start
    midnight = _utc(last_day + dt.timedelta(days=1), 0)
    assert days["covered_from_at"].iloc[1] == midnight
    first = weeks.iloc[0]
    monday = last_day + dt.timedelta(days=7 - last_day.weekday())
    # the week is still its calendar week (DESIGN §3.4: weeks start Monday), covered from start
    assert (first["bucket_start"], first["bucket_end"]) == (monday - dt.timedelta(days=7), monday)
    assert bool(first["is_partial"])  # the data ends at 11:00, whatever the weekday
    assert first["covered_from_at"] == start
    # then the scenario's three whole Monday-started weeks
    assert weeks["bucket_start"].iloc[1:].tolist() == [
        monday + dt.timedelta(weeks=i) for i in range(3)
    ]
    assert not weeks["is_partial"].iloc[1:].any()
    # every row of the first buckets (each quantile, line and machine) carries the flag
    firsts = pd.concat(
        [
            capacity[(capacity["bucket_grain"] == "day") & (capacity["bucket_start"] == last_day)],
            capacity[
                (capacity["bucket_grain"] == "week")
                & (capacity["bucket_start"] == first["bucket_start"])
            ],
        ]
    )
    assert firsts.groupby("bucket_grain")["is_partial"].all().all()


def _down_share(capacity: pd.DataFrame, grain: str) -> pd.Series:
    """B1's expected unplanned downtime per scheduled, unplanned-free hour, per bucket."""
    b1 = _rows(capacity, "B1", grain)
    open_h = b1["calendar_hours"] - b1["planned_downtime_hours"]
    return (b1["expected_unplanned_downtime_hours"] / open_h.where(open_h > 0)).dropna()


def test_a_machine_at_high_risk_has_less_expected_capacity_early_than_later(published) -> None:
    _, _, capacity, effect = published
    weeks = _down_share(capacity, "week")
    # history alone (MTBF of a few hundred operating hours, 2.5 h repairs) loses under 1 % of
    # open time; a 95 % risk of failing within hours with a ~4 h spindle-crash repair loses 11 %
    # (Monday, 35 open hours left) to 21 % (Friday, 3 h left) of the first, partial week
    assert weeks.iloc[0] > 0.08
    assert weeks.iloc[0] > 5 * weeks.iloc[-1]
    # expected available share of line B's open hours (calendar - planned - expected unplanned
    # = the mean available hours, capacity.py): 79-89 % in the first week, 99-100 % at the end
    b = _rows(capacity, "B", "week")
    open_h = b["calendar_hours"] - b["planned_downtime_hours"]
    expected = (open_h - b["expected_unplanned_downtime_hours"]) / open_h
    assert expected.iloc[0] < 0.9 * expected.iloc[-1]
    # the published effect: the same scenario on history-only failure rates makes more early
    line_b = effect[effect["line_id"] == "B"].reset_index(drop=True)
    assert line_b["machines_with_risk"].iloc[0] == 1
    assert bool(line_b["is_partial"].iloc[0])
    assert line_b["p50_difference_units"].iloc[0] < 0
    assert line_b["p50_difference_share"].iloc[0] < -0.03
    # from Friday 11:00 only 3 open hours are left: repairs run on into Monday's week
    first_two = line_b.iloc[:2]
    lost = first_two["p50_difference_units"].sum() / first_two["capacity_p50_history_only"].sum()
    assert lost < -0.03
    assert abs(line_b["p50_difference_share"].iloc[-1]) < 0.02
    # the published P50 is the with-risk column of the effect, week for week
    assert line_b["capacity_p50_with_risk"].to_numpy() == pytest.approx(
        b["capacity_units"].to_numpy()
    )


def test_machines_without_near_term_risk_show_no_early_dip(published) -> None:
    effect = published[3]
    line_a = effect[effect["line_id"] == "A"]
    # A1 and A2 are scored at their cap (p90 = 720 h, p_failure_72h 1 %): hardly any change
    # (measured: at most 0.4 %, the coupled runs' noise)
    assert (line_a["p50_difference_share"].abs() < 0.01).all()


def test_the_predicted_failure_mode_sets_the_first_repair() -> None:
    last_day = LAST_DAYS["wednesday"]
    factors = mode_repair_factors(_failures(last_day), _utc(last_day, 11))
    # pooled mean 4.5 h; each mode's mean shrunk with 3 pseudo-repairs towards it
    assert factors["spindle_crash"] == pytest.approx((80 + 3 * 4.5) / 13 / 4.5)
    assert factors["loose_belt"] == pytest.approx((10 + 3 * 4.5) / 13 / 4.5)
    down = {}
    for mode in ("spindle_crash", "loose_belt", "never_seen"):
        history = _history(last_day, mode)
        start = planning_start(PLANT, history)
        lines = build_line_params(
            PLANT, history.kpis, history.failures, history.risk, SCENARIO, start
        )
        b1 = lines["B"].machines[0]
        if mode == "never_seen":
            assert b1.first_repair is None  # the machine's fitted repair law applies
        else:
            assert b1.first_repair.mean == pytest.approx(b1.repair.mean * factors[mode])
        capacity, _, _ = run_scenario_with_effect(PLANT, SCENARIO, history, start)
        down[mode] = _down_share(capacity, "week").iloc[0]
    assert down["spindle_crash"] > 1.5 * down["loose_belt"]
    assert down["loose_belt"] < down["never_seen"] < down["spindle_crash"]


def test_without_any_score_the_effect_is_exactly_zero() -> None:
    last_day = LAST_DAYS["monday"]
    history = History(kpis=_kpis(last_day), last_data_at=_utc(last_day, 11))
    start = planning_start(PLANT, history)
    _, _, effect = run_scenario_with_effect(PLANT, SCENARIO, history, start)
    assert len(effect) == 2 * 4  # two lines x (partial week + 3 weeks)
    assert (effect["machines_with_risk"] == 0).all()
    assert np.all(effect["p50_difference_units"] == 0.0)


def test_a_line_down_scenario_keeps_its_calendar_days_whatever_weekday_the_data_ends() -> None:
    # start_day counts from the first whole week's Monday (the old horizon start), so "down from
    # day 7" stops line B on the Monday of the second planning week whether the data ends Monday,
    # Wednesday or Friday
    down = Scenario.model_validate(
        {
            "id": "down",
            "horizon_weeks": 3,
            "replications": 20,
            "changes": [{"type": "line_down", "line": "B", "start_day": 7, "days": 2}],
        }
    )
    for last_day in LAST_DAYS.values():
        history = _history(last_day)
        start = planning_start(PLANT, history)
        lines = build_line_params(PLANT, history.kpis, None, None, down, start)
        ((a, b),) = lines["B"].line_down
        monday = last_day + dt.timedelta(days=7 - last_day.weekday()) + dt.timedelta(weeks=1)
        assert start + dt.timedelta(hours=a) == _utc(monday, 0)
        assert b - a == pytest.approx(48.0)
