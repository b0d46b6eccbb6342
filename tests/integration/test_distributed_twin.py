"""A twin beyond one process (DESIGN §3.7): the Dagster instance on PostgreSQL
(TWIN_DAGSTER_POSTGRES) and the scenario batch on two Celery workers (TWIN_CELERY_BROKER), on real
servers started by the tests.

One `twin run` of the small two-line plant (two days, four shipped scenarios cut to three weeks
and 100 replications; about 100 s) with the instance in a private PostgreSQL, a private
redis-server as broker and `twin workers --count 2` serving the steps. The instance: its runs,
events and asset index are rows in PostgreSQL, nothing of it is SQLite, the Dagster CLI (what `twin
ui`'s daemon and webserver load) keeps schedule state there too. The workers: every scenario step
runs in one of the two worker processes (the event log names the worker and its pid), the steps of
the other stages stay in the run's process, the capacity tables are row for row those of an
in-process run of the same scenarios and seeds, and no worker outlives `twin workers`. Neither
password is in any file, output, log, event or database row.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg2
import pytest
import yaml

from orchestration.cli import runner
from tests.support.postgres_server import postgres_server  # noqa: F401 (session fixture)
from tests.support.redis_server import (
    TWIN,
    RedisServer,
    TwinWorkers,
    find_redis_server,
    process_alive,
    twin_workers,
)
from tests.support.scenarios import write_short_scenarios
from tests.support.small_plant import RAW
from twin.paths import TwinPaths
from twin.publish.inputs import INPUTS

pytestmark = pytest.mark.integration
WORKERS = 2
START, DAYS, SEED = "2026-10-05", 2, 3
# the scenario engine is not under test here: short horizons and few replications keep the batch
# to a few seconds; the seeds stay as shipped, so both runs draw the same random numbers
HORIZON_WEEKS, REPLICATIONS = 3, 100
# four of the shipped scenarios: enough for both workers to take some and to queue
SCENARIOS = ("baseline", "added_machine", "extra_shift", "line_down")
# columns the simulation stamps per run: what differs between two runs of the same scenario
RUN_STAMPS = ("run_id", "simulated_at")
SCENARIO_JOB, LOAD_JOB = "scenario_batch_job", "ingest_job"
# what `twin run` runs, one Dagster run each or per scenario (all files land in one burst: one load)
STAGE_JOBS = {LOAD_JOB, "kpi_job", "failure_model_retrain_job", SCENARIO_JOB, "publication_job"}
REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
# dagster-celery's engine event names the worker that took a step under this metadata key
CELERY_WORKER = "Celery worker"
# a worker's log line for each step it takes: "Task execute_plan[<task id>] received"
RECEIVED = re.compile(r"Task execute_plan\[[0-9a-f-]+\] received")


def _small_plant_with_tags() -> dict:
    """The small plant, one power tag per machine: the virtual plant cannot yet generate a plant
    without any tag (an empty historian file fails), and the historian feeds the risk model."""
    raw = copy.deepcopy(RAW)
    for line in raw["lines"]:
        for machine in line["machines"]:
            machine["tags"] = [
                {
                    "tag": f"{machine['id']}.power",
                    "signal": "power",
                    "unit": "kW",
                    "period_s": 60,
                    "min": 0,
                    "max": 100,
                }
            ]
    return raw


def _write_plant(folder: Path) -> tuple[Path, list[str]]:
    folder.mkdir(parents=True)
    plant = folder / "plant.yaml"
    plant.write_text(yaml.safe_dump(_small_plant_with_tags(), sort_keys=False))
    ids = write_short_scenarios(
        folder / "scenarios",
        horizon_weeks=HORIZON_WEEKS,
        replications=REPLICATIONS,
        only=SCENARIOS,
    )
    return plant, ids


def _clean_environment() -> dict[str, str]:
    """This process's environment without any twin or Dagster setting a developer may have set."""
    dropped = ("DAGSTER_HOME", "MLFLOW_TRACKING_URI")
    return {k: v for k, v in os.environ.items() if not (k.startswith("TWIN_") or k in dropped)}


def _twin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(TWIN), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"twin {args[0]}:\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    return done


def simulation_outputs(paths: TwinPaths) -> dict[str, pd.DataFrame]:
    """Every scenario's simulation output (the capacity tables the publication reads), per input,
    as the files hold it (``_comparable`` drops the per-run stamps)."""
    outputs = {}
    for spec in INPUTS:
        folder = paths.lake / spec.folder
        files = sorted(p for p in folder.glob("*.parquet") if p.name != spec.schema_file)
        frame = pd.concat(
            [pd.read_parquet(f).assign(scenario_file=f.stem) for f in files], ignore_index=True
        )
        outputs[spec.name] = frame
    return outputs


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in RUN_STAMPS if c in frame.columns])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@dataclass(frozen=True)
class StepPlace:
    """Where a run's step ran: the Celery worker that took it (None: the run's own process) and
    the process id its step events came from."""

    run_id: str
    job: str
    partition: str | None
    worker: str | None
    pids: frozenset[int]


@contextmanager
def dagster_instance(dagster_home: Path, url: str) -> Iterator[dg.DagsterInstance]:
    """The twin's instance as its processes open it: dagster.yaml names the URL's variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWIN_DAGSTER_POSTGRES", url)
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            yield instance


def step_places(dagster_home: Path, url: str) -> list[StepPlace]:
    places = []
    with dagster_instance(dagster_home, url) as instance:
        for record in instance.get_run_records():
            run = record.dagster_run
            assert run.status == dg.DagsterRunStatus.SUCCESS, f"{run.job_name} {run.run_id}"
            events = [e.dagster_event for e in instance.all_logs(run.run_id)]
            events = [e for e in events if e is not None]
            workers = {
                e.event_specific_data.metadata[CELERY_WORKER].text
                for e in events
                if e.event_type == dg.DagsterEventType.ENGINE_EVENT
                and CELERY_WORKER in (e.event_specific_data.metadata or {})
            }
            assert len(workers) <= 1, workers  # one step per run in these jobs
            pids = frozenset(
                e.pid for e in events if e.event_type == dg.DagsterEventType.STEP_START
            )
            places.append(
                StepPlace(
                    run.run_id,
                    run.job_name,
                    run.tags.get("dagster/partition"),
                    next(iter(workers), None),
                    pids,
                )
            )
    return places


@dataclass(frozen=True)
class DistributedTwin:
    root: Path
    env: dict[str, str]
    paths: TwinPaths
    dagster_home: Path
    instance_url: str  # TWIN_DAGSTER_POSTGRES
    scenario_ids: list[str]
    broker_password: str
    instance_password: str
    output: str  # `twin generate`'s and `twin run`'s stdout and stderr
    workers: TwinWorkers
    workers_output: str  # `twin workers`' own stdout and stderr
    outputs: dict[str, pd.DataFrame]  # the simulation outputs right after the Celery run
    places: list[StepPlace]  # where the steps of `twin run`'s runs ran

    def instance(self):
        return dagster_instance(self.dagster_home, self.instance_url)


@pytest.fixture(scope="module")
def twin(postgres_server, tmp_path_factory) -> DistributedTwin:  # noqa: F811
    if find_redis_server() is None:
        pytest.skip("Debian's redis-server is not installed (apt-get install redis-server)")
    root = tmp_path_factory.mktemp("distributed")
    plant, scenario_ids = _write_plant(root / "plant")
    url = postgres_server.create_database("twin_dagster")
    env = {
        **_clean_environment(),
        "TWIN_HOME": str(root / "home"),
        "DAGSTER_HOME": str(root / "dagster"),  # dagster.yaml only: the instance is PostgreSQL
        "TWIN_PLANT": str(plant),
        "TWIN_DAGSTER_POSTGRES": url,
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    generated = _twin(env, "generate", "--days", str(DAYS), "--start", START, "--seed", str(SEED))
    workers_out = root / "workers.out"
    with RedisServer.start() as redis:
        env = {**env, "TWIN_CELERY_BROKER": redis.url()}
        with twin_workers(env, WORKERS, workers_out) as workers:
            done = _twin(env, "run")
    paths = TwinPaths(root / "home")
    return DistributedTwin(
        root=root,
        env=env,
        paths=paths,
        dagster_home=root / "dagster",
        instance_url=url,
        scenario_ids=scenario_ids,
        broker_password=redis.password,
        instance_password=postgres_server.password,
        output=generated.stdout + generated.stderr + done.stdout + done.stderr,
        workers=workers,
        workers_output=workers_out.read_text(errors="replace"),
        outputs=simulation_outputs(paths),
        places=step_places(root / "dagster", url),
    )


def test_every_scenario_ran_on_one_of_the_two_workers_and_both_took_some(
    twin: DistributedTwin,
) -> None:
    places = twin.places
    scenarios = [p for p in places if p.job == SCENARIO_JOB]
    assert sorted(p.partition for p in scenarios) == sorted(twin.scenario_ids)
    worker_pids = set(twin.workers.worker_pids)
    assert len(worker_pids) == WORKERS
    # the worker named in the event log is one of `twin workers`' processes (twin-1, twin-2) ...
    assert {p.worker.split("@")[0] for p in scenarios} == {"twin-1", "twin-2"}
    # ... and the step's own events came from that worker's process, not from the run's
    assert all(len(p.pids) == 1 and p.pids <= worker_pids for p in scenarios)
    assert set().union(*(p.pids for p in scenarios)) == worker_pids
    # each worker's log received exactly the steps the event log says it ran
    for number, log in enumerate(twin.workers.logs, start=1):
        received = len(RECEIVED.findall(log.read_text(errors="replace")))
        ran = sum(1 for p in places if p.worker and p.worker.startswith(f"twin-{number}@"))
        assert ran >= 1
        assert received == ran


def test_only_the_loads_and_scenarios_leave_the_runs_process(twin: DistributedTwin) -> None:
    places = twin.places
    worker_pids = set(twin.workers.worker_pids)
    assert {p.job for p in places if p.worker} == {SCENARIO_JOB, LOAD_JOB}
    kept = [p for p in places if p.job not in (SCENARIO_JOB, LOAD_JOB)]
    assert {p.job for p in kept} >= {"kpi_job", "failure_model_retrain_job", "publication_job"}
    # dbt, the model and the publication ran in their run's process, never on a worker
    assert all(p.worker is None and p.pids and not (p.pids & worker_pids) for p in kept)


def test_the_capacity_tables_equal_an_in_process_run_with_the_same_seeds(
    twin: DistributedTwin, monkeypatch, tmp_path
) -> None:
    on_workers = twin.outputs
    assert len(on_workers["capacity_runs"]) > 0
    assert set(on_workers["capacity_runs"]["scenario_id"]) == set(twin.scenario_ids)
    celery_run_ids = set(on_workers["capacity_runs"]["run_id"])
    # the same batch as `twin run` runs it without a broker: in-process runs, two at a time
    for name in ("TWIN_HOME", "DAGSTER_HOME", "TWIN_PLANT", "TWIN_DAGSTER_POSTGRES"):
        monkeypatch.setenv(name, twin.env[name])
    monkeypatch.delenv("TWIN_CELERY_BROKER", raising=False)
    ids = twin.scenario_ids
    dagster_home = Path(twin.env["DAGSTER_HOME"])
    runs = runner.run_partitions(
        SCENARIO_JOB, ids, ids, dagster_home, tmp_path / "runs.log", lambda _: None
    )
    assert [r.success for r in runs] == [True] * len(ids)
    in_process = simulation_outputs(twin.paths)
    # the files were written again, by the in-process runs (else the comparison proves nothing)
    assert set(in_process["capacity_runs"]["run_id"]) == {r.run_id for r in runs}
    assert not celery_run_ids & {r.run_id for r in runs}
    ours = {r.run_id for r in runs}
    places = [p for p in step_places(twin.dagster_home, twin.instance_url) if p.run_id in ours]
    assert len(places) == len(ids)
    assert all(p.worker is None and not p.pids & set(twin.workers.worker_pids) for p in places)
    for name, frame in on_workers.items():
        assert len(frame) == len(in_process[name]), name
        pd.testing.assert_frame_equal(_comparable(frame), _comparable(in_process[name]))


def _rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.close()
    return rows


def test_the_runs_events_and_asset_index_are_rows_in_postgresql(twin: DistributedTwin) -> None:
    runs = _rows(twin.instance_url, "select run_id, pipeline_name, status from runs")
    assert {job for _, job, _ in runs} == STAGE_JOBS
    assert {status for _, _, status in runs} == {"SUCCESS"}
    # the runs `twin run` reports ("done: kpi_job (c42221d1), ...") are these rows
    reported = re.findall(r"(\w+_job) \(([0-9a-f]{8})\)", twin.output.split("done: ", 1)[1])
    assert {job for job, _ in reported} == STAGE_JOBS - {LOAD_JOB}  # loads: reported per file
    for job, prefix in reported:
        assert any(run_id.startswith(prefix) and name == job for run_id, name, _ in runs)
    # the steps on the workers wrote their events there too: every run's steps started
    started = _rows(
        twin.instance_url,
        "select run_id, count(*) from event_logs where dagster_event_type = %s group by run_id",
        (dg.DagsterEventType.STEP_START.value,),
    )
    assert {run_id for run_id, _ in started} == {run_id for run_id, _, _ in runs}
    # every run's RUN_SUCCESS event (stored as PIPELINE_SUCCESS)
    finished = _rows(
        twin.instance_url,
        "select distinct run_id from event_logs where dagster_event_type = %s",
        (dg.DagsterEventType.RUN_SUCCESS.value,),
    )
    assert {run_id for (run_id,) in finished} == {run_id for run_id, _, _ in runs}
    # materializations are indexed in PostgreSQL as well (the UI's asset pages read them)
    assets = {key for (key,) in _rows(twin.instance_url, "select asset_key from asset_keys")}
    assert '["published", "planning_tables"]' in assets


def test_no_sqlite_storage_is_made_under_the_dagster_home(twin: DistributedTwin) -> None:
    home = twin.dagster_home
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["storage"]["custom"]["config"] == {
        "postgres_url": {"env": "TWIN_DAGSTER_POSTGRES"}
    }
    # SQLite storage would be history/runs.db, history/runs/*.db and schedules/schedules.db
    assert sorted(home.rglob("*.db")) == []
    assert not (home / "history").exists()
    assert not (home / "schedules").exists()


def test_neither_password_is_in_any_file_output_log_event_or_row(twin: DistributedTwin) -> None:
    secrets = {"broker": twin.broker_password, "instance": twin.instance_password}
    texts = {"twin generate, run": twin.output, "twin workers": twin.workers_output}
    assert "127.0.0.1" in twin.workers_output  # the redacted URL is shown, so the check can fail
    with twin.instance() as instance:
        for record in instance.get_run_records():
            run = record.dagster_run
            texts[f"run {run.run_id}"] = repr(run) + "".join(
                repr(entry) for entry in instance.all_logs(run.run_id)
            )
    # logs, compute logs, MLflow, warehouse, published tables, dagster.yaml, the workers' logs
    files = [p for p in twin.root.rglob("*") if p.is_file()]
    assert len(files) > 50
    holding = [
        (name, str(path))
        for name, secret in secrets.items()
        for path in files
        if secret.encode() in path.read_bytes()
    ]
    holding += [
        (name, where)
        for name, secret in secrets.items()
        for where, text in texts.items()
        if secret in text
    ]
    # every text column of the instance's tables: run bodies and events carry the env reference
    text_columns = _rows(
        twin.instance_url,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'public' and data_type in ('text', 'character varying')",
    )
    assert len(text_columns) > 20
    for table, column in text_columns:
        for name, secret in secrets.items():
            (found,) = _rows(
                twin.instance_url,
                f'select count(*) from "{table}" where position(%s in "{column}") > 0',
                (secret,),
            )[0]
            if found:
                holding.append((name, f"{table}.{column}"))
    assert holding == []


def test_the_dagster_cli_keeps_schedule_state_in_postgresql(twin: DistributedTwin) -> None:
    # What an operator does in the UI (the webserver and daemon load the same dagster.yaml):
    # turn the nightly batch off. The state must be in PostgreSQL, where every process sees it.
    stopped = subprocess.run(
        [str(DAGSTER), "schedule", "stop", "nightly_scenario_schedule", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=twin.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert twin.instance_password not in stopped.stdout + stopped.stderr
    rows = _rows(
        twin.instance_url, "select instigator_type, status, instigator_body from instigators"
    )
    assert [(kind, status) for kind, status, _ in rows] == [("SCHEDULE", "STOPPED")]
    assert "nightly_scenario_schedule" in rows[0][2]
    # a new instance from that DAGSTER_HOME, as the daemon makes it, reads the same state
    with twin.instance() as instance:
        states = {state.name: state.status.value for state in instance.all_instigator_state()}
        run_jobs = {run.job_name for run in instance.get_runs()}
    assert states == {"nightly_scenario_schedule": "STOPPED"}
    assert run_jobs == STAGE_JOBS
    assert sorted(twin.dagster_home.rglob("*.db")) == []


def test_no_worker_outlives_twin_workers(twin: DistributedTwin) -> None:
    workers = twin.workers
    assert workers.process.returncode == 0  # stopped by SIGTERM, its clean shutdown
    alive = [pid for pid in workers.worker_pids if process_alive(pid)]
    assert alive == []
