"""The demo demand plan (twin/virtual_plant/demand_plan.py) lands as a clean demand_plan batch."""

import datetime as dt

import pandas as pd
import pytest

from tests.support.foreign_plant import CALENDAR
from tests.support.lake import load_all
from twin.plant.calendar import shift_hours
from twin.plant.model import parse_plant
from twin.virtual_plant.demand_plan import LOAD_PROFILE, demand_plan, write_demand_plan

MONDAY = dt.date(2026, 12, 7)


def test_the_plan_loads_clean_and_follows_the_load_profile(paths, plant):
    write_demand_plan(plant, paths.landing, MONDAY, weeks=13)
    (outcome,) = load_all(paths, plant).values()
    assert (outcome.audit["status"], outcome.audit["rows_rejected"]) == ("loaded", 0)
    plan = demand_plan(plant, MONDAY, weeks=13)
    assert outcome.audit["rows_loaded"] == len(plan)
    # L3 alone makes P300: its plan names the line; P200 (L1 and L2) is left to the twin to split
    assert set(plan.loc[plan["product_id"] == "P300", "line_id"]) == {"L3"}
    assert set(plan.loc[plan["product_id"] == "P200", "line_id"]) == {""}
    weekly = plan[plan["product_id"] == "P300"].set_index("bucket_start")["quantity"]
    # same shifts in the first two weeks: the demand moves with the load profile (±3 % noise)
    ratio = weekly.iloc[1] / weekly.iloc[0]
    assert ratio == pytest.approx(LOAD_PROFILE[1] / LOAD_PROFILE[0], rel=0.07)


def test_the_plan_is_deterministic_and_weekly(plant):
    assert demand_plan(plant, MONDAY, weeks=4).equals(demand_plan(plant, MONDAY, weeks=4))
    with pytest.raises(ValueError, match="starts on a Monday"):
        demand_plan(plant, MONDAY + dt.timedelta(days=2))


def test_a_plan_sized_on_history_follows_what_each_line_made(plant):
    # L3 made twice as much per shift hour as L1: its plan, week by week, is twice L1's own
    # products' share, whatever their ideal rates (L1's shared product P200 is split later).
    slow, fast = {"L1": 10.0, "L2": 10.0, "L3": 10.0}, {"L1": 10.0, "L2": 10.0, "L3": 20.0}
    base = demand_plan(plant, MONDAY, weeks=4, per_shift_hour=slow)
    more = demand_plan(plant, MONDAY, weeks=4, per_shift_hour=fast)
    l3 = more["line_id"] == "L3"
    assert (more.loc[l3, "quantity"] / base.loc[l3, "quantity"]).round(2).eq(2.0).all()
    assert more.loc[~l3, "quantity"].equals(base.loc[~l3, "quantity"])  # other lines unchanged


def test_the_generator_reports_what_each_line_made_and_the_plan_uses_it(paths, plant):
    from twin.virtual_plant.demand_plan import made_per_shift_hour
    from twin.virtual_plant.generator import generate

    first = dt.date(2026, 11, 23)  # Monday to Wednesday
    report = generate(plant, paths.landing, days=3, start=first, seed=5, defects=False)
    production = pd.concat(pd.read_csv(f) for f in paths.landing.glob("mes_production/*.csv"))
    for line in plant.lines:
        last = line.machines[-1].id
        made = production.loc[production["machine_id"] == last, "good_qty"].sum()
        assert report.line_good_units[line.id] == made > 0
    rates = made_per_shift_hour(plant, report.line_good_units, first, report.last_day)
    day_hours = shift_hours(plant, first, first)  # one weekday's shifts
    plan = demand_plan(plant, MONDAY, weeks=1, per_shift_hour=rates)
    l3 = plan.loc[plan["line_id"] == "L3", "quantity"].sum()
    # a week of five such days at a load near LOAD_PROFILE[0] (±3 % noise)
    assert l3 == pytest.approx(5 * day_hours * rates["L3"] * LOAD_PROFILE[0], rel=0.04)


def test_a_shared_product_is_sized_so_the_twins_split_overloads_no_line(plant):
    from twin.simulation.feasibility import assign_demand
    from twin.simulation.line_params import build_line_params
    from twin.simulation.scenarios import load_scenarios

    # L1 made far less per shift hour than its ideal rate suggests against L2: the twin splits the
    # shared product by ideal rates, so the plan's total must fit L1's share, not L1 + L2's output
    rates = {"L1": 4.0, "L2": 12.0, "L3": 10.0}
    plan = demand_plan(plant, MONDAY, weeks=1, per_shift_hour=rates).assign(
        week_start=MONDAY, demand_units=lambda f: f["quantity"].astype(float)
    )
    (baseline,) = (s for s in load_scenarios(None, plant) if s.id == "baseline")
    lines = build_line_params(plant, None, None, None, baseline, dt.datetime(2026, 12, 6, 23))
    assigned = assign_demand(plant, lines, plan).groupby("line_id")["demand_units"].sum()
    hours = shift_hours(plant, MONDAY, MONDAY + dt.timedelta(days=6))
    could_take = {line: hours * rate * LOAD_PROFILE[0] for line, rate in rates.items()}
    for line, units in assigned.items():
        assert units <= could_take[line] * 1.04, line  # ±3 % load noise, rounding
    assert assigned["L1"] == pytest.approx(could_take["L1"], rel=0.04)  # L1 binds


def _machine(machine_id: str, cycle_times: dict[str, float]) -> dict:
    return {"id": machine_id, "type": "cell", "ideal_cycle_time_s": cycle_times}


PARALLEL_RAW = {
    "calendar": CALENDAR,
    "site": {"id": "PAR", "name": "a shared product, a parallel station", "timezone": "UTC"},
    "products": [{"id": "Q", "family": "f"}],
    "lines": [
        {"id": "A", "buffer_capacity": 4, "machines": [_machine("A-1", {"Q": 36.0})]},
        {
            "id": "B",
            "buffer_capacity": 4,
            "machines": [
                # two 60 s machines side by side (120 /h), then a 45 s machine (80 /h): the
                # constraint is 80 /h, not the 60 /h of the longest cycle time
                {**_machine("B-1", {"Q": 60.0}), "station": "wash"},
                {**_machine("B-2", {"Q": 60.0}), "station": "wash"},
                _machine("B-3", {"Q": 45.0}),
            ],
        },
    ],
}


def test_a_shared_product_fits_a_foreign_plant_with_a_parallel_station():
    from twin.simulation.feasibility import assign_demand
    from twin.simulation.line_params import build_line_params
    from twin.simulation.scenarios import BASELINE

    plant = parse_plant(PARALLEL_RAW)
    line_b = next(line for line in plant.lines if line.id == "B")
    assert line_b.constraint_rate_per_h("Q") == pytest.approx(80.0)
    rates = {"A": 60.0, "B": 40.0}  # units per shift hour each line made in its history
    plan = demand_plan(plant, MONDAY, weeks=1, per_shift_hour=rates).assign(
        week_start=MONDAY, demand_units=lambda f: f["quantity"].astype(float)
    )
    assert set(plan["line_id"]) == {""}, "a product both lines make is planned without a line"
    lines = build_line_params(plant, None, None, None, BASELINE, dt.datetime(2026, 12, 6, 23))
    assigned = assign_demand(plant, lines, plan).groupby("line_id")["demand_units"].sum()
    hours = shift_hours(plant, MONDAY, MONDAY + dt.timedelta(days=6))
    could_take = {line: hours * rate * LOAD_PROFILE[0] for line, rate in rates.items()}
    for line, units in assigned.items():
        assert units <= could_take[line] * 1.04, line
    # the twin splits 100 : 80 by the constraints' ideal rates, so B (40 of its 80) binds
    assert assigned["B"] == pytest.approx(could_take["B"], rel=0.04)
    assert assigned["A"] / assigned["B"] == pytest.approx(100 / 80, rel=0.01)
