"""The scenario batch on two Celery workers (TWIN_CELERY_BROKER, DESIGN §3.7), on a real Redis.

One `twin run` of the small two-line plant (two days, the shipped scenarios cut to three weeks
and 100 replications; about 100 s) with a private redis-server as broker and `twin workers
--count 2` serving the steps: every scenario step runs in one of the two worker processes (the
event log names the worker and its pid), the steps of the other stages stay in the run's process,
the capacity tables are row for row those of an in-process run of the same scenarios and seeds,
the broker's password is in no output, log or event, and no worker outlives `twin workers`.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from orchestration.cli import runner
from tests.support.redis_server import (
    TWIN,
    RedisServer,
    TwinWorkers,
    find_redis_server,
    process_alive,
    twin_workers,
)
from tests.support.small_plant import RAW
from twin.paths import TwinPaths
from twin.publish.inputs import INPUTS

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SCENARIOS = REPO_ROOT / "twin" / "scenarios"
WORKERS = 2
START, DAYS, SEED = "2026-10-05", 2, 3
# the scenario engine is not under test here: short horizons and few replications keep the batch
# to a few seconds; the seeds stay as shipped, so both runs draw the same random numbers
HORIZON_WEEKS, REPLICATIONS = 3, 100
# columns the simulation stamps per run: what differs between two runs of the same scenario
RUN_STAMPS = ("run_id", "simulated_at")
SCENARIO_JOB, LOAD_JOB = "scenario_batch_job", "ingest_job"
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
    (folder / "scenarios").mkdir(parents=True)
    plant = folder / "plant.yaml"
    plant.write_text(yaml.safe_dump(_small_plant_with_tags(), sort_keys=False))
    ids = []
    for shipped in sorted(SHIPPED_SCENARIOS.glob("*.yaml")):
        scenario = yaml.safe_load(shipped.read_text())
        scenario.update(horizon_weeks=HORIZON_WEEKS, replications=REPLICATIONS)
        (folder / "scenarios" / shipped.name).write_text(yaml.safe_dump(scenario))
        ids.append(scenario["id"])
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


def step_places(dagster_home: Path) -> list[StepPlace]:
    places = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
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
class CeleryTwin:
    env: dict[str, str]
    paths: TwinPaths
    dagster_home: Path
    scenario_ids: list[str]
    password: str
    output: str  # `twin run`'s stdout and stderr
    workers: TwinWorkers
    workers_output: str  # `twin workers`' own stdout and stderr
    outputs: dict[str, pd.DataFrame]  # the simulation outputs right after the Celery run
    places: list[StepPlace]  # where the steps of `twin run`'s runs ran


@pytest.fixture(scope="module")
def celery_twin(tmp_path_factory) -> CeleryTwin:
    if find_redis_server() is None:
        pytest.skip("Debian's redis-server is not installed (apt-get install redis-server)")
    root = tmp_path_factory.mktemp("celery")
    plant, scenario_ids = _write_plant(root / "plant")
    env = {
        **_clean_environment(),
        "TWIN_HOME": str(root / "home"),
        "DAGSTER_HOME": str(root / "dagster"),  # SQLite on disk: the workers write into it too
        "TWIN_PLANT": str(plant),
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    _twin(env, "generate", "--days", str(DAYS), "--start", START, "--seed", str(SEED))
    workers_out = root / "workers.out"
    with RedisServer.start() as redis:
        env = {**env, "TWIN_CELERY_BROKER": redis.url()}
        with twin_workers(env, WORKERS, workers_out) as workers:
            done = _twin(env, "run")
    paths = TwinPaths(root / "home")
    return CeleryTwin(
        env=env,
        paths=paths,
        dagster_home=root / "dagster",
        scenario_ids=scenario_ids,
        password=redis.password,
        output=done.stdout + done.stderr,
        workers=workers,
        workers_output=workers_out.read_text(errors="replace"),
        outputs=simulation_outputs(paths),
        places=step_places(root / "dagster"),
    )


def test_every_scenario_ran_on_one_of_the_two_workers_and_both_took_some(celery_twin) -> None:
    twin = celery_twin
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


def test_only_the_loads_and_scenarios_leave_the_runs_process(celery_twin) -> None:
    places = celery_twin.places
    worker_pids = set(celery_twin.workers.worker_pids)
    assert {p.job for p in places if p.worker} == {SCENARIO_JOB, LOAD_JOB}
    kept = [p for p in places if p.job not in (SCENARIO_JOB, LOAD_JOB)]
    assert {p.job for p in kept} >= {"kpi_job", "failure_model_retrain_job", "publication_job"}
    # dbt, the model and the publication ran in their run's process, never on a worker
    assert all(p.worker is None and p.pids and not (p.pids & worker_pids) for p in kept)


def test_the_capacity_tables_equal_an_in_process_run_with_the_same_seeds(
    celery_twin, monkeypatch, tmp_path
) -> None:
    twin = celery_twin
    on_workers = twin.outputs
    assert len(on_workers["capacity_runs"]) > 0
    assert set(on_workers["capacity_runs"]["scenario_id"]) == set(twin.scenario_ids)
    celery_run_ids = set(on_workers["capacity_runs"]["run_id"])
    # the same batch as `twin run` runs it without a broker: in-process runs, two at a time
    for name in ("TWIN_HOME", "DAGSTER_HOME", "TWIN_PLANT"):
        monkeypatch.setenv(name, twin.env[name])
    monkeypatch.delenv("TWIN_CELERY_BROKER", raising=False)
    ids = twin.scenario_ids
    runs = runner.run_partitions(SCENARIO_JOB, ids, ids, tmp_path / "runs.log", lambda _: None)
    assert [r.success for r in runs] == [True] * len(ids)
    in_process = simulation_outputs(twin.paths)
    # the files were written again, by the in-process runs (else the comparison proves nothing)
    assert set(in_process["capacity_runs"]["run_id"]) == {r.run_id for r in runs}
    assert not celery_run_ids & {r.run_id for r in runs}
    ours = {r.run_id for r in runs}
    places = [p for p in step_places(twin.dagster_home) if p.run_id in ours]
    assert len(places) == len(ids)
    assert all(p.worker is None and not p.pids & set(twin.workers.worker_pids) for p in places)
    for name, frame in on_workers.items():
        assert len(frame) == len(in_process[name]), name
        pd.testing.assert_frame_equal(_comparable(frame), _comparable(in_process[name]))


def test_the_broker_password_is_in_no_output_log_or_event(celery_twin) -> None:
    twin = celery_twin
    texts = {
        "twin run": twin.output,
        "twin workers": twin.workers_output,
        **{str(p): p.read_text(errors="replace") for p in twin.paths.home.glob("logs/*.log")},
        "dagster.yaml": (twin.dagster_home / "dagster.yaml").read_text(),
    }
    assert "127.0.0.1" in twin.workers_output  # the redacted URL is shown, so the check can fail
    with dg.DagsterInstance.from_config(str(twin.dagster_home)) as instance:
        for record in instance.get_run_records():
            run = record.dagster_run
            texts[f"run {run.run_id}"] = repr(run) + "".join(
                repr(entry) for entry in instance.all_logs(run.run_id)
            )
    assert [name for name, text in texts.items() if twin.password in text] == []


def test_no_worker_outlives_twin_workers(celery_twin) -> None:
    workers = celery_twin.workers
    assert workers.process.returncode == 0  # stopped by SIGTERM, its clean shutdown
    alive = [pid for pid in workers.worker_pids if process_alive(pid)]
    assert alive == []
