"""The shipped packaging plant end to end: a plant shaped unlike the demo runs with no other setting.

Two lines of different length (PK1 with two labellers in parallel at one station, PK2 with a
tagless shrink wrapper), three shifts seven days a week with one crossing midnight, America/Chicago.
Only TWIN_PLANT (and the test's TWIN_HOME / DAGSTER_HOME) is set, plus TWIN_SCENARIOS naming the
shipped generic scenarios cut to three weeks and 100 replications: the same selectors and changes
resolve against this plant, in a fraction of the simulation time. Three days keep it short.
"""

import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from orchestration.cli.commands import main
from tests.support.scenarios import write_short_scenarios
from twin.paths import TwinPaths
from twin.plant.model import load_plant
from twin.simulation.scenarios import SHIPPED

pytestmark = pytest.mark.integration
PLANT = Path(__file__).parents[2] / "twin" / "plants" / "packaging" / "plant.yaml"
START, DAYS, SEED = "2026-10-20", 3, 5
LABELLERS = ["PK1-LAB-A", "PK1-LAB-B"]


def _only_the_plant(patch: pytest.MonkeyPatch, root: Path) -> TwinPaths:
    for name in list(os.environ):
        if name.startswith("TWIN_") or name == "MLFLOW_TRACKING_URI":
            patch.delenv(name)
    patch.setenv("TWIN_PLANT", str(PLANT))
    write_short_scenarios(root / "scenarios", source=SHIPPED)
    patch.setenv("TWIN_SCENARIOS", str(root / "scenarios"))
    patch.setenv("TWIN_HOME", str(root / "home"))
    patch.setenv("DAGSTER_HOME", str(root / "dagster"))
    return TwinPaths(root / "home")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("packaging")
    with pytest.MonkeyPatch.context() as patch:
        paths = _only_the_plant(patch, root)
        import sklearn  # noqa: F401  (its import sets its OpenMP guards, KMP_*: not ours)

        before = dict(os.environ)
        assert main(["check"]) == 0
        assert main(["generate", "--days", str(DAYS), "--start", START, "--seed", str(SEED)]) == 0
        assert main(["run"]) == 0
        after = dict(os.environ)
    manifest = json.loads((paths.published / "manifest.json").read_text())
    with duckdb.connect(str(paths.published / "catalog.duckdb"), read_only=True) as connection:
        tables = {
            name: connection.execute(f"select * from {name}").df()
            for name in ("capacity_supply", "kpi_daily", "machine_failure_risk")
        }
    return manifest, tables, (before, after)


def test_the_commands_leave_the_callers_environment_as_they_found_it(published) -> None:
    # `twin run` runs its stages in this process: what it needs (the instance, TWIN_HOME) is passed,
    # not written into the environment of whoever called it
    before, after = published[2]
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    assert set(before) - set(after) == set()


def test_capacity_for_both_lines_and_each_labeller_under_the_shipped_scenarios(published) -> None:
    manifest, tables, _ = published
    capacity = tables["capacity_supply"]
    lines = capacity[capacity["resource_level"] == "line"]
    assert set(lines["resource_id"]) == {"PK1", "PK2"}
    machines = capacity[capacity["resource_level"] == "machine"]
    assert set(LABELLERS) <= set(machines["resource_id"])
    assert set(machines["resource_id"]) == {m.id for m in load_plant(PLANT).machines}
    labellers = machines[machines["resource_id"].isin(LABELLERS)]
    assert (labellers["capacity_units"] > 0).any()
    shipped = sorted(yaml.safe_load(p.read_text())["id"] for p in SHIPPED.glob("*.yaml"))
    assert manifest["scenario_set"] == shipped


def test_the_tagless_station_states_completeness_not_applicable(published) -> None:
    _, tables, _ = published
    kpis = tables["kpi_daily"]
    wrapper = kpis[kpis["machine_id"] == "PK2-WRP"]
    assert len(wrapper) >= DAYS
    assert wrapper["data_completeness"].isna().all()
    assert wrapper["kpi_note"].str.contains("data completeness not applicable").all()
    tagged = kpis[kpis["machine_id"] == "PK1-FIL"]
    assert tagged["data_completeness"].notna().all()


def test_failure_risk_for_every_machine(published) -> None:
    _, tables, _ = published
    risk = tables["machine_failure_risk"]
    assert sorted(risk["machine_id"]) == sorted(m.id for m in load_plant(PLANT).machines)


def test_the_line_yield_counts_each_part_once_at_the_parallel_labellers(published) -> None:
    """Rolled yield over the stations: the two labellers are one step (their pooled good share),
    not two steps in series (which would count the labelling scrap twice)."""
    _, tables, _ = published
    kpis = tables["kpi_daily"]
    machines = kpis[kpis["line_id"].eq("PK1") & kpis["machine_id"].notna()]
    line = kpis[kpis["line_id"].eq("PK1") & kpis["machine_id"].isna()].set_index("date")
    checked = 0
    for date, day in machines.groupby("date"):
        if day["first_pass_yield"].isna().any() or pd.isna(line.loc[date, "first_pass_yield"]):
            continue
        labellers = day[day["machine_id"].isin(LABELLERS)]
        others = day[~day["machine_id"].isin(LABELLERS)]
        expected = others["first_pass_yield"].prod() * (
            labellers["good_qty"].sum() / labellers["produced_qty"].sum()
        )
        in_series = day["first_pass_yield"].prod()
        assert line.loc[date, "first_pass_yield"] == pytest.approx(expected, abs=1e-3)
        if labellers["scrap_rate"].gt(0).any():
            assert line.loc[date, "first_pass_yield"] > in_series
        checked += 1
    assert checked >= 1
