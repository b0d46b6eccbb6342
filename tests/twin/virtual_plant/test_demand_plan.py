"""The demo demand plan (twin/virtual_plant/demand_plan.py) lands as a clean demand_plan batch."""

import datetime as dt

import pytest

from tests.support.lake import load_all
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
