"""The demand plan against simulated capacity (twin/simulation/feasibility.py), on the two-line plant:
line A (A1, A2; products P1, P2), line B (B1; P2 only), one early shift on weekdays."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.support.small_plant import BASE, PLANT, START, scenario
from twin.plant.calendar import local_date_of
from twin.simulation.capacity import simulate_lines
from twin.simulation.feasibility import capacity_feasibility, constraint_rates, weekly_output
from twin.simulation.line_params import build_line_params

WEEK2 = dt.date(2026, 7, 6)  # the second Monday of the horizon (START is Monday 2026-06-29)


def _run(sc, start=START):
    lines = build_line_params(PLANT, None, None, None, sc, start)
    results = simulate_lines(lines, sc.replications, sc.seed)
    return lines, results, start


@pytest.fixture(scope="module")
def baseline():
    return _run(BASE.model_copy(update={"replications": 200}))


def _plan(*rows):
    return pd.DataFrame(
        [
            {
                "plan_version": "v1",
                "product_id": p,
                "week_start": w,
                "demand_units": q,
                "line_id": line,
            }
            for p, w, q, line in rows
        ]
    )


def _week_samples(results, start, line_id, monday):
    mondays, output, _ = weekly_output(PLANT, results[line_id], start)
    return output[:, mondays.index(monday)]


def test_p_meet_is_the_share_of_replications_that_make_the_demand(baseline):
    lines, results, start = baseline
    samples = _week_samples(results, start, "B", WEEK2)
    assert samples.std() > 0, "the replications must differ for this test to mean anything"
    low, mid, high = np.quantile(samples, [0.01, 0.5, 0.99])
    plan = _plan(
        ("P2", WEEK2, low * 0.5, "B"),
    )
    far_below = capacity_feasibility(PLANT, lines, results, start, plan, "baseline")
    assert far_below["p_meet_demand"].tolist() == [1.0]
    assert far_below["status"].tolist() == ["feasible"]

    far_above = capacity_feasibility(
        PLANT, lines, results, start, _plan(("P2", WEEK2, high * 1.5, "B")), "baseline"
    )
    assert far_above["p_meet_demand"].tolist() == [0.0]
    assert far_above["shortfall_units_p50"].iloc[0] == pytest.approx(high * 1.5 - mid, rel=0.02)

    # line B makes only P2, so a demanded unit is a simulated unit: count the replications directly
    (row,) = capacity_feasibility(
        PLANT, lines, results, start, _plan(("P2", WEEK2, mid, "B")), "baseline"
    ).itertuples()
    assert row.p_meet_demand == pytest.approx(float(np.mean(samples >= mid)))
    assert 0.3 < row.p_meet_demand < 0.7
    assert row.capacity_units_p50 == pytest.approx(float(np.median(samples)))
    assert row.load_ratio_p50 == pytest.approx(mid / np.median(samples))


def test_a_product_slower_at_the_constraint_needs_more_of_the_line(baseline):
    lines, results, start = baseline
    per_product, mix = constraint_rates(PLANT, lines["A"])
    # line A's constraint is A2 (60 s for both products): P1 and P2 cost it the same time
    assert per_product == pytest.approx({"P1": 60.0, "P2": 60.0})
    assert mix == pytest.approx(60.0)
    # demand split: P2 without a line goes to A and B in proportion to their rates for it
    rows = capacity_feasibility(
        PLANT, lines, results, start, _plan(("P2", WEEK2, 300.0, None)), "baseline"
    ).set_index("line_id")
    rate_b = constraint_rates(PLANT, lines["B"])[0]["P2"]  # B1: 30 s -> 120 / h
    assert rows.loc["A", "demand_units"] == pytest.approx(300 * 60 / (60 + rate_b))
    assert rows.loc["B", "demand_units"] == pytest.approx(300 * rate_b / (60 + rate_b))
    assert (rows["split_demand_units"] == rows["demand_units"]).all()


def test_a_saturday_shift_turns_an_infeasible_week_feasible():
    saturday = {
        "type": "extra_shift",
        "name": "saturday",
        "start": "06:00",
        "end": "14:00",
        "days": ["sat"],
        "lines": ["B"],
    }
    base = _run(BASE.model_copy(update={"replications": 200}))
    extra = _run(scenario(saturday).model_copy(update={"replications": 200}))
    samples = _week_samples(base[1], base[2], "B", WEEK2)
    demand = float(np.quantile(samples, 0.95)) * 1.04  # beyond what 5 shifts make, in 6
    plan = _plan(("P2", WEEK2, demand, "B"))
    before = capacity_feasibility(PLANT, *base, plan, "baseline")
    after = capacity_feasibility(PLANT, *extra, plan, "extra_shift")
    assert before["status"].tolist() == ["infeasible"]
    assert after["status"].tolist() == ["feasible"]
    assert after["capacity_units_p50"].iloc[0] > before["capacity_units_p50"].iloc[0] * 1.1


def test_weeks_outside_the_horizon_and_a_partial_first_week_get_no_row(baseline):
    first = local_date_of(PLANT, START)
    plan = _plan(
        ("P2", first, 10.0, "B"),
        ("P2", first + dt.timedelta(weeks=10), 10.0, "B"),
        ("P2", WEEK2, 10.0, "B"),
    )
    whole = capacity_feasibility(PLANT, *baseline, plan, "baseline")
    assert sorted(whole["bucket_start"]) == [first, WEEK2]
    # data ending Wednesday noon: the rest of that week is simulated but not judged
    wednesday = START + dt.timedelta(days=2, hours=12)
    partial = capacity_feasibility(PLANT, *_run(BASE, wednesday), plan, "baseline")
    assert partial["bucket_start"].tolist() == [WEEK2]


def test_the_assumed_capacity_gap_is_against_p50(baseline):
    lines, results, start = baseline
    assumed = pd.DataFrame(
        {"resource_id": ["B"], "bucket_start": [WEEK2], "assumed_capacity_units": [1000.0]}
    )
    (row,) = capacity_feasibility(
        PLANT, lines, results, start, _plan(("P2", WEEK2, 10.0, "B")), "baseline", assumed=assumed
    ).itertuples()
    assert row.assumed_capacity_units == 1000.0
    assert row.gap_vs_assumed_pct == pytest.approx((row.capacity_units_p50 - 1000) / 10)
