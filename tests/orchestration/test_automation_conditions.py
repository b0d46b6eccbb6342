"""Declarative automation on the real code location: what a landed batch sets in motion, tick by tick.

Materializations are reported to a test instance the way runs would record them; each evaluation
is one tick of the automation sensor (the cursor carries what was already handled).
"""

import dagster as dg
import pytest

from orchestration.cli.runner import pending_bursts, register_bursts
from orchestration.definitions import defs
from twin.ingest import landing
from twin.ingest.audit import read_audit
from twin.paths import SOURCES, TwinPaths
from twin.simulation.scenarios import load_scenarios

# each tick evaluates ~40 assets and ~200 checks of the whole code location: seconds, not ms
pytestmark = pytest.mark.integration

PLANT_MODEL = dg.AssetKey(["raw", "plant_model"])
MARTS = dg.AssetKey(["marts", "fct_machine_kpis_daily"])
FEATURES = dg.AssetKey(["marts", "fct_machine_hourly_features"])
SCORES = dg.AssetKey(["ml", "machine_failure_risk_scores"])
CAPACITY_RUNS = dg.AssetKey(["simulation", "capacity_runs"])
CAPACITY_SUPPLY = dg.AssetKey(["publish", "capacity_supply"])
CONSTRAINT_MAP = dg.AssetKey(["publish", "constraint_map"])
# published tables rebuilt from the scenario batch besides capacity_supply (their checks must pass)
SCENARIO_TABLES = [
    CONSTRAINT_MAP,
    dg.AssetKey(["publish", "prediction_effect"]),
    dg.AssetKey(["publish", "capacity_feasibility"]),
]
KPI_DAILY = dg.AssetKey(["publish", "kpi_daily"])
PLANNING_TABLES = dg.AssetKey(["published", "planning_tables"])
RETRAIN = dg.AssetKey(["ml", "failure_model"])
ACCURACY = dg.AssetKey(["published", "capacity_forecast_accuracy"])


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


class Ticks:
    """Successive evaluations of every automation condition against one instance."""

    def __init__(self, definitions: dg.Definitions, instance: dg.DagsterInstance) -> None:
        self.definitions, self.instance, self.cursor = definitions, instance, None

    def tick(self) -> dg.EvaluateAutomationConditionsResult:
        result = dg.evaluate_automation_conditions(
            self.definitions, self.instance, cursor=self.cursor
        )
        self.cursor = result.cursor
        return result

    def materialize(self, key: dg.AssetKey, partitions=(None,)) -> None:
        for partition in partitions:
            self.instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=key, partition=partition)
            )

    def materialize_requested(self, result: dg.EvaluateAutomationConditionsResult) -> None:
        """What the runs launched for a tick would record when they succeed: materializations
        and passing checks."""
        for node in self.definitions.resolve_asset_graph().asset_nodes:
            requested = result.get_requested_partitions(node.key)
            if requested:
                self.materialize_checked(node.key, sorted(requested, key=str))

    def materialize_checked(self, key: dg.AssetKey, partitions=(None,), failing=()) -> None:
        """A run's record of the asset and of its checks (all pass except those in failing)."""
        self.materialize(key, partitions)
        for check in self.definitions.resolve_asset_graph().asset_check_keys:
            if check.asset_key == key:
                self.check(key, check.name, passed=check.name not in failing)

    def check(self, key: dg.AssetKey, name: str, *, passed: bool) -> None:
        self.instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(asset_key=key, check_name=name, passed=passed)
        )


@pytest.fixture
def ticks(definitions):
    with dg.instance_for_test() as instance:
        yield Ticks(definitions, instance)


def _land(ticks: Ticks, burst_id: str, *, loaded: bool = True) -> None:
    """One landing burst with a batch per source, registered; materialized unless its load failed."""
    ticks.instance.add_dynamic_partitions("landing_bursts", [burst_id])
    if loaded:
        for source in SOURCES:
            ticks.materialize(dg.AssetKey(["raw", source]), [burst_id])


def _upstream(graph, key: dg.AssetKey) -> set:
    seen, frontier = set(), [key]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


def _requested_keys(result: dg.EvaluateAutomationConditionsResult, graph) -> set:
    return {node.key for node in graph.asset_nodes if result.get_num_requested(node.key)}


def test_a_fresh_twin_builds_only_the_plant_reference_tables(ticks, definitions) -> None:
    graph = definitions.resolve_asset_graph()
    first = ticks.tick()
    assert _requested_keys(first, graph) == {PLANT_MODEL}
    ticks.materialize_requested(first)
    second = ticks.tick()
    # the plant's staging views and dimensions, and nothing that reads the (still empty) lake
    requested = _requested_keys(second, graph)
    assert {k for k in graph.get(PLANT_MODEL).child_keys if k.path[0] == "staging"} <= requested
    raw_batches = {dg.AssetKey(["raw", source]) for source in SOURCES}
    assert all(not (_upstream(graph, key) & raw_batches) for key in requested)
    ticks.materialize_requested(second)
    assert ticks.tick().total_requested == 0


def _to_first_publication_tick(ticks: Ticks) -> dg.EvaluateAutomationConditionsResult:
    ticks.materialize_requested(ticks.tick())  # the plant model
    ticks.materialize_requested(ticks.tick())  # its staging views
    _land(ticks, "b1")

    kpis = ticks.tick()
    for key in (MARTS, FEATURES, SCORES, KPI_DAILY):
        assert kpis.get_num_requested(key) == 1, key
    # the scenario batch waits for the new KPIs; nothing publishes stale capacity meanwhile
    for key in (CAPACITY_RUNS, CAPACITY_SUPPLY, PLANNING_TABLES):
        assert kpis.get_num_requested(key) == 0, key
    assert kpis.get_num_requested(RETRAIN) == 0, "retraining is weekly, not per batch"
    ticks.materialize_requested(kpis)

    scenarios = ticks.tick()
    assert scenarios.get_requested_partitions(CAPACITY_RUNS) == {s.id for s in load_scenarios()}
    assert scenarios.get_num_requested(PLANNING_TABLES) == 0
    ticks.materialize_requested(scenarios)
    return ticks.tick()


def test_landed_batches_flow_to_one_publication(ticks) -> None:
    publication = _to_first_publication_tick(ticks)
    # the backtest against actuals follows the publication in the same run
    for key in (CAPACITY_SUPPLY, CONSTRAINT_MAP, PLANNING_TABLES, ACCURACY):
        assert publication.get_num_requested(key) == 1, key
    assert publication.get_num_requested(MARTS) == 0
    ticks.materialize_requested(publication)
    assert ticks.tick().total_requested == 0, "one landing, one publication"


def test_a_failed_batch_does_not_stop_the_kpis(ticks) -> None:
    _to_first_publication_tick(ticks)
    _land(ticks, "b2", loaded=False)  # every load failed: nothing new
    assert ticks.tick().get_num_requested(MARTS) == 0
    _land(ticks, "b3")
    assert ticks.tick().get_num_requested(MARTS) == 1


def test_a_failed_blocking_contract_check_holds_the_publication(ticks) -> None:
    _to_first_publication_tick(ticks)
    ticks.tick()  # the publication run is under way
    # the run rebuilt the table, its contract failed, the run published nothing
    for key in SCENARIO_TABLES:
        ticks.materialize_checked(key)
    ticks.materialize_checked(CAPACITY_SUPPLY, failing={"capacity_supply_contract"})
    assert ticks.tick().get_num_requested(PLANNING_TABLES) == 0

    ticks.check(CAPACITY_SUPPLY, "capacity_supply_contract", passed=True)
    assert ticks.tick().get_num_requested(PLANNING_TABLES) == 1


def test_automation_runs_without_anyone_switching_it_on(definitions) -> None:
    for name in (
        "twin_automation_sensor",
        "landing_files_sensor",
        "publication_freshness_sensor",
        "run_failure_alerts",
    ):
        assert definitions.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING


def test_a_quarantined_batch_records_no_materialization_and_starts_nothing(ticks, twin_env) -> None:
    """Driven through the real ingest job: an unreadable file is quarantined by the real load."""
    publication = _to_first_publication_tick(ticks)
    ticks.materialize_requested(publication)
    assert ticks.tick().total_requested == 0

    paths = TwinPaths(twin_env).ensure()
    (paths.landing_dir("historian") / "broken.csv").write_bytes(b"tag,ts\n\x00\xff\xfe garbage")
    (batch,) = landing.claim_landed_files(paths)
    (burst,) = pending_bursts(paths)
    register_bursts(ticks.instance, [burst])
    job = defs().resolve_job_def("ingest_job")  # resources bound to this TWIN_HOME
    run = job.execute_in_process(
        instance=ticks.instance, partition_key=burst.burst_id, raise_on_error=False
    )

    raw = dg.AssetKey(["raw", "historian"])
    (audit,) = [r for r in read_audit(paths) if r["batch_id"] == batch.batch_id]
    assert audit["status"] == "quarantined"
    assert run.get_asset_materialization_events() == []
    contract = {e.check_name: e.passed for e in run.get_asset_check_evaluations()}
    assert contract["historian_batch_contract"] is False
    latest = ticks.instance.get_latest_materialization_event(raw)
    assert latest is None or latest.dagster_event.partition != burst.burst_id
    assert ticks.tick().total_requested == 0, "a quarantined batch sets nothing in motion"
