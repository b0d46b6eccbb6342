"""The whole graph on generated data, through Dagster: `twin generate`, then `twin run`."""

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_contracts import load_published_contract
from orchestration.cli.commands import main
from orchestration.cli.runner import refresh_kpis
from orchestration.lib.dbt_builds import PARSE_STATE
from orchestration.lib.dbt_project import DBT_PROJECT_DIR
from tests.support.scenarios import DEMO, write_short_scenarios
from twin.paths import TwinPaths

pytestmark = pytest.mark.integration
# Thursday to Sunday 2026-03-29, the spring DST change (a 23 h day); seed 3 delivers one MES
# production file late, for 2026-03-26.
START, DAYS, SEED = "2026-03-26", 4, 3
# three of the demo's scenarios, shorter and with fewer replications: the chain is under test, not
# the engine (one run per scenario in every `twin run` of this module)
HORIZON_WEEKS = 4
SCENARIOS = ("baseline", "added_machine", "line_down")


def _query(paths: TwinPaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _batches(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["batches", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def pipeline_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    ids = write_short_scenarios(
        root / "scenarios", source=DEMO, horizon_weeks=HORIZON_WEEKS, only=SCENARIOS
    )
    assert sorted(ids) == sorted(SCENARIOS), "the demo's scenario set changed"
    return root


def _use_twin(patch: pytest.MonkeyPatch, root) -> None:
    patch.setenv("TWIN_HOME", str(root / "home"))
    patch.setenv("DAGSTER_HOME", str(root / "dagster"))
    patch.setenv("TWIN_SCENARIOS", str(root / "scenarios"))


@pytest.fixture(autouse=True)
def pipeline_env(pipeline_root, monkeypatch):
    """Every test in this module works on the one twin the module fixture built."""
    _use_twin(monkeypatch, pipeline_root)


@pytest.fixture(scope="module")
def first_run(pipeline_root):
    """Four generated days run through the twin, with the late file held back for later."""
    root = pipeline_root
    paths = TwinPaths(root / "home")
    with pytest.MonkeyPatch.context() as patch:
        _use_twin(patch, root)
        assert main(["generate", "--days", str(DAYS), "--start", START, "--seed", str(SEED)]) == 0
        late = sorted(paths.landing.rglob("*_late*"))
        assert late, "the generator was expected to deliver a late file for this seed"
        held_back = root / "held_back"
        held_back.mkdir()
        for file in late:
            shutil.move(file, held_back / f"{file.parent.name}__{file.name}")
        landed = sorted(p.name for p in paths.landing.rglob("*") if p.is_file())
        assert main(["run"]) == 0
        yield paths, landed, held_back


def test_every_landed_file_is_audited_and_accounted_for(first_run, capsys) -> None:
    paths, landed, _ = first_run
    records = _batches(capsys)
    audit = [json.loads(p.read_text()) for p in paths.lake.glob("batches/*.json")]
    # Files with identical content (e.g. two header-only CMMS files for a weekend) are one batch.
    seen = [r["file"] for r in records] + [
        d["file"] for r in audit for d in r.get("duplicates", [])
    ]
    assert sorted(seen) == landed
    for record in records:
        assert set(record) == {
            "batch_id",
            "source",
            "file",
            "status",
            "rows_in",
            "rows_loaded",
            "rows_rejected",
            "reason",
        }
        assert record["rows_in"] == record["rows_loaded"] + record["rows_rejected"]
        assert record["status"] in {"loaded", "partially rejected", "quarantined"}
    rejected = sum(r["rows_rejected"] for r in records)
    assert rejected > 0  # the generator injects duplicates and out-of-range spikes
    assert (
        _query(
            paths,
            "select count(*) from read_parquet('" + str(paths.lake) + "/rejects/*/*.parquet')",
        )[0][0]
        == rejected
    )


def test_kpis_are_built_for_every_machine_day(first_run) -> None:
    paths, _, _ = first_run
    window = f"date between '{START}' and date '{START}' + {DAYS - 1}"
    machine_days, with_oee = _query(
        paths, f"select count(*), count(oee) from marts.fct_machine_kpis_daily where {window}"
    )[0]
    assert machine_days == 18 * DAYS
    # A repair already under way when the generated window opens is booked on the day it started:
    # that day has data (the work order), so it gets rows too, and no other day outside does.
    outside = _query(
        paths, f"select distinct date from marts.fct_machine_kpis_daily where not ({window})"
    )
    work_order_days = _query(
        paths,
        "select distinct days.date from staging.stg_cmms__work_orders as orders"
        " inner join staging.stg_plant__days as days"
        " on orders.started_at >= days.day_start_at and orders.started_at < days.day_end_at",
    )
    assert set(outside) <= set(work_order_days)
    # Thursday and Friday have shifts; the weekend has none, so a weekend OEE can only come from a
    # repair booked past Friday's last shift (UNPLANNED_DOWNTIME is planned busy time, never run).
    weekday_oee, low, high = _query(
        paths,
        "select count(oee), min(oee), max(oee) from marts.fct_machine_kpis_daily"
        " where date in ('2026-03-26', '2026-03-27')",
    )[0]
    assert weekday_oee == 18 * 2
    assert 0 < low <= high <= 1
    weekend = _query(
        paths,
        "select oee, planned_busy_hours, unplanned_downtime_hours, kpis.machine_id,"
        " exists (select 1 from staging.stg_cmms__work_orders as orders"
        "   inner join staging.stg_plant__days as days on days.date = kpis.date"
        "   where orders.machine_id = kpis.machine_id and orders.started_at < days.day_start_at"
        "   and coalesce(orders.ended_at, days.day_end_at) > days.day_start_at)"
        " from marts.fct_machine_kpis_daily as kpis"
        " where kpis.date in ('2026-03-28', '2026-03-29') and oee is not null",
    )
    assert with_oee == weekday_oee + len(weekend)
    for oee, busy, down, machine, repair_runs_into_the_day in weekend:
        assert oee == 0, machine
        assert busy == down, machine
        assert repair_runs_into_the_day, f"{machine}: a weekend OEE without a repair running over"
    # The DST day is 23 hours long: data completeness is measured against 23 h of samples.
    (completeness,) = _query(
        paths,
        "select min(data_completeness) from marts.fct_machine_kpis_daily where date = '2026-03-29'",
    )[0]
    assert completeness > 0.9


def test_the_run_ends_with_a_publication_that_names_its_lineage(first_run) -> None:
    paths, _, _ = first_run
    manifest = json.loads((paths.published / "manifest.json").read_text())
    catalog = str(paths.published / "catalog.duckdb")
    with duckdb.connect(catalog, read_only=True) as connection:
        ids = {
            name: connection.execute(f"select distinct publication_id from {name}").fetchall()
            for name in ("capacity_supply", "machine_failure_risk", "kpi_daily", "constraint_map")
        }
        scenarios = connection.execute(
            "select distinct scenario_id from capacity_supply order by 1"
        ).fetchall()
        weeks = connection.execute(
            "select count(distinct bucket_start) from capacity_supply where bucket_grain = 'week'"
        ).fetchone()[0]
        risk_rows = connection.execute("select count(*) from machine_failure_risk").fetchone()[0]
    assert all(found == [(manifest["publication_id"],)] for found in ids.values())
    assert [s for (s,) in scenarios] == sorted(manifest["scenario_set"])
    assert "baseline" in manifest["scenario_set"]
    assert weeks == HORIZON_WEEKS
    assert risk_rows == 18
    # Four days hold too few failures to train: the published risk says it is the fallback.
    assert "fallback" in manifest["model_version"]
    assert manifest["data"]["batches"]["count"] >= DAYS * 3
    assert all(check["passed"] for check in manifest["checks"])
    assert {t: manifest["tables"][t]["contract_version"] for t in ids} == {
        t: load_published_contract(t)["version"] for t in ids
    }
    # The simulation publishes day buckets, so every planning-system file is in the version.
    assert set(manifest["exports"]["files"]) == {
        "ibp_capasupply.csv",
        "kinaxis_constraint_available.tsv",
        "o9_resource_capacity.csv",
    }
    assert manifest["exports"]["skipped"] == {}
    version = paths.published / manifest["version_dir"]
    for name, listed in manifest["exports"]["files"].items():
        assert listed["rows"] > 0
        assert len((version / "exports" / name).read_bytes()) == listed["bytes"]


def test_every_run_is_recorded_in_the_dagster_instance(first_run, capsys) -> None:
    # Files with identical content are one batch: count batches, not files.
    records = _batches(capsys)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
    jobs = [run.job_name for run in runs]
    assert jobs.count("kpi_job") == 1
    assert jobs.count("scenario_batch_job") == len(SCENARIOS)
    assert jobs.count("publication_job") == 1
    # everything landed before `twin run` is one landing burst: one load run for all the files
    assert jobs.count("ingest_job") == 1
    assert len(records) > 1


def test_the_dbt_builds_leave_only_their_parse_state_behind(first_run) -> None:
    paths, _, _ = first_run
    assert sorted(p.name for p in paths.dbt_builds.iterdir()) == [PARSE_STATE]
    with dg.DagsterInstance.get() as instance:
        kpi_runs = [run.run_id for run in instance.get_runs() if run.job_name == "kpi_job"]
    assert kpi_runs
    # nothing in the project's own target folder either (dagster-dbt's default place)
    left = [p for p in (DBT_PROJECT_DIR / "target").glob("*") for r in kpi_runs if r[:7] in p.name]
    assert left == []


def test_a_late_file_updates_that_days_kpis(first_run) -> None:
    paths, _, held_back = first_run
    sql = (
        "select sum(produced_qty) from marts.fct_machine_kpis_daily "
        "where date = '2026-03-26' and produced_qty is not null"
    )
    (before,) = _query(paths, sql)[0]
    for file in held_back.iterdir():
        source, name = file.name.split("__", 1)
        shutil.move(file, paths.landing_dir(source) / name)
    assert main(["run"]) == 0
    (after,) = _query(paths, sql)[0]
    assert after > before


def _kpi_refresh(args) -> tuple[bool, str]:
    dagster_home, log = args  # TWIN_HOME: the test's, inherited by the forked worker
    return refresh_kpis(Path(dagster_home), Path(log))


def test_parallel_runs_never_fight_over_the_warehouse(first_run) -> None:
    # Two KPI refreshes at once: the "warehouse" concurrency pool (limit 1) queues the second dbt
    # step until the first has released DuckDB's single writer lock.
    paths, _, _ = first_run
    import os

    jobs = [(os.environ["DAGSTER_HOME"], str(paths.home / "logs" / f"p{i}.log")) for i in range(2)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_kpi_refresh, jobs))
    assert all(ok for ok, _ in results)
    with dg.DagsterInstance.get() as instance:
        spans = []
        for _, run_id in results:
            events = {
                e.dagster_event.event_type_value: e.timestamp
                for e in instance.all_logs(run_id)
                if e.dagster_event and e.step_key == "twin_dbt_models"
            }
            spans.append((events["STEP_START"], events["STEP_SUCCESS"]))
    first, second = sorted(spans)
    assert second[0] >= first[1]  # the dbt steps did not overlap
