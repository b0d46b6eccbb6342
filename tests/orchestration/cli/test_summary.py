"""The demo summary's demand-plan lines, read from a real publication's catalog."""

import pandas as pd

from orchestration.cli.summary import PLAN_ROWS_SHOWN, plan_at_risk
from tests.support.publication import LINEAGE, WEEKS, make_tables
from twin.paths import TwinPaths
from twin.publish.versions import publish


def _catalog(paths: TwinPaths, tables: dict[str, pd.DataFrame]) -> str:
    return str(publish(paths, tables, LINEAGE).catalog)


def test_weeks_at_risk_are_listed_worst_first_with_what_the_best_scenario_does(
    paths: TwinPaths,
) -> None:
    tables = make_tables()
    baseline = tables["capacity_feasibility"]  # both weeks at risk, P(meet) 0.6
    baseline.loc[baseline["bucket_start"] == WEEKS[1], ["p_meet_demand", "status"]] = [
        0.2,
        "infeasible",
    ]
    overtime = baseline.assign(scenario_id="overtime", p_meet_demand=0.95, status="feasible")
    tables["capacity_feasibility"] = pd.concat([baseline, overtime], ignore_index=True)

    header, worst, second = plan_at_risk(_catalog(paths, tables))

    assert "Demand plan v1: 1 line-weeks infeasible, 1 at risk" in header
    assert f"week of {WEEKS[1]}" in worst  # the infeasible week comes first
    assert "20% infeasible" in worst
    assert f"week of {WEEKS[0]}" in second
    assert "60% at risk" in second
    assert all("-> overtime: 95% (feasible)" in line for line in (worst, second))


def test_a_plan_that_holds_and_no_plan_at_all_are_said_as_such(paths: TwinPaths) -> None:
    tables = make_tables()
    feasible = tables["capacity_feasibility"].assign(p_meet_demand=0.97, status="feasible")
    assert plan_at_risk(_catalog(paths, {**tables, "capacity_feasibility": feasible})) == [
        "\nDemand plan: every week feasible in the baseline scenario"
    ]
    empty = tables["capacity_feasibility"].iloc[0:0]
    (line,) = plan_at_risk(_catalog(paths, {**tables, "capacity_feasibility": empty}))
    assert "Demand plan: none landed" in line


def test_a_long_list_shows_the_worst_weeks_and_says_how_many_more(paths: TwinPaths) -> None:
    tables = make_tables()
    row = tables["capacity_feasibility"].iloc[[0]]
    weeks = [
        row.assign(bucket_start=WEEKS[0] + pd.Timedelta(weeks=i), p_meet_demand=i / 100)
        for i in range(PLAN_ROWS_SHOWN + 3)
    ]
    weeks = pd.concat(weeks, ignore_index=True).assign(
        bucket_end=lambda f: f["bucket_start"] + pd.Timedelta(days=7), status="infeasible"
    )
    lines = plan_at_risk(_catalog(paths, {**tables, "capacity_feasibility": weeks}))
    assert len(lines) == 1 + PLAN_ROWS_SHOWN + 1
    assert f"week of {WEEKS[0]}" in lines[1]  # P(meet) 0 first
    assert lines[-1] == "  ... and 3 more: table capacity_feasibility"
