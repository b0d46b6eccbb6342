"""The Dagster instance on PostgreSQL (TWIN_DAGSTER_POSTGRES, DESIGN §3.7), on a real server.

One `twin run` of a one-machine plant (two days, one small scenario; about a minute) with the
instance on the private test server: its runs are rows there, nothing of the instance is SQLite,
the Dagster CLI (what `twin ui`'s daemon and webserver load) keeps schedule state there too, and
the password is in no file, output or database row. A URL that is wrong or unreachable stops the
command in one sentence that shows no password.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from orchestration.cli.commands import main
from orchestration.cli.instance_config import write_instance_config
from orchestration.lib.postgres_instance import with_psycopg2_driver
from tests.support.foreign_plant import write_plant
from tests.support.postgres_server import postgres_server  # noqa: F401 (session fixture)

REPO_ROOT = Path(__file__).resolve().parents[3]
TWIN = Path(sys.executable).with_name("twin")
DAGSTER = Path(sys.executable).with_name("dagster")
# what `twin run` runs, one Dagster run each (one load run: all files land in one burst)
STAGE_JOBS = {
    "ingest_job",
    "kpi_job",
    "failure_model_retrain_job",
    "scenario_batch_job",
    "publication_job",
}
# one scenario, short and few replications: the instance is under test, not the simulation
SCENARIO = "id: baseline\nhorizon_weeks: 2\nreplications: 20\nseed: 1\nchanges: []\n"
SECRET = "Pa55-not-for-logs"


@dataclass(frozen=True)
class TwinOnPostgres:
    root: Path
    dagster_home: Path
    url: str
    password: str
    env: dict[str, str]
    output: str  # stdout and stderr of `twin generate` and `twin run`


def _clean_environment() -> dict[str, str]:
    """This process's environment without any twin or Dagster setting a developer may have set."""
    dropped = ("DAGSTER_HOME", "MLFLOW_TRACKING_URI")
    return {k: v for k, v in os.environ.items() if not (k.startswith("TWIN_") or k in dropped)}


def _twin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TWIN), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def twin_on_postgres(postgres_server, tmp_path_factory) -> TwinOnPostgres:  # noqa: F811
    root = tmp_path_factory.mktemp("dagster_pg")
    plant = write_plant(root / "plant")
    (root / "plant" / "scenarios").mkdir()
    (root / "plant" / "scenarios" / "baseline.yaml").write_text(SCENARIO)
    url = postgres_server.create_database("twin_dagster")
    env = {
        **_clean_environment(),
        "TWIN_HOME": str(root / "home"),
        "DAGSTER_HOME": str(root / "dagster"),
        "TWIN_PLANT": str(plant),
        "TWIN_DAGSTER_POSTGRES": url,
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    output = ""
    for args in (["generate", "--days", "2", "--start", "2026-10-05", "--seed", "3"], ["run"]):
        done = _twin(env, *args)
        output += done.stdout + done.stderr
        assert done.returncode == 0, (
            f"twin {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return TwinOnPostgres(root, root / "dagster", url, postgres_server.password, env, output)


def _rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.close()
    return rows


@pytest.mark.integration
def test_a_twin_run_keeps_its_runs_in_postgresql(twin_on_postgres) -> None:
    twin = twin_on_postgres
    runs = _rows(twin.url, "select run_id, pipeline_name, status from runs")
    assert {job for _, job, _ in runs} == STAGE_JOBS
    assert {status for _, _, status in runs} == {"SUCCESS"}
    # the runs `twin run` reports ("done: kpi_job (c42221d1), ...") are these rows
    reported = re.findall(r"(\w+_job) \(([0-9a-f]{8})\)", twin.output.split("done: ", 1)[1])
    assert len(reported) == len(STAGE_JOBS) - 1  # the load run is reported per file instead
    for job, prefix in reported:
        assert any(run_id.startswith(prefix) and name == job for run_id, name, _ in runs)
    # their event logs are there too: every run's RUN_SUCCESS event (stored as PIPELINE_SUCCESS)
    finished = _rows(
        twin.url,
        "select distinct run_id from event_logs where dagster_event_type = %s",
        (dg.DagsterEventType.RUN_SUCCESS.value,),
    )
    assert {run_id for (run_id,) in finished} == {run_id for run_id, _, _ in runs}
    # materializations are indexed in PostgreSQL as well (the UI's asset pages read them)
    assets = {key for (key,) in _rows(twin.url, "select asset_key from asset_keys")}
    assert '["published", "planning_tables"]' in assets


@pytest.mark.integration
def test_no_sqlite_storage_is_made_under_the_dagster_home(twin_on_postgres) -> None:
    home = twin_on_postgres.dagster_home
    assert (home / "dagster.yaml").is_file()
    # SQLite storage would be history/runs.db, history/runs/*.db and schedules/schedules.db
    assert sorted(home.rglob("*.db")) == []
    assert not (home / "history").exists()
    assert not (home / "schedules").exists()


@pytest.mark.integration
def test_the_password_is_in_no_file_output_or_row(twin_on_postgres) -> None:
    twin = twin_on_postgres
    config_text = (twin.dagster_home / "dagster.yaml").read_text()
    assert twin.password not in config_text
    config = yaml.safe_load(config_text)
    assert config["storage"]["custom"]["config"] == {
        "postgres_url": {"env": "TWIN_DAGSTER_POSTGRES"}
    }
    assert twin.password not in twin.output
    secret = twin.password.encode()
    holding = [p for p in twin.root.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert holding == []  # logs, compute logs, MLflow, warehouse, published tables, dagster.yaml
    # run bodies and events carry the instance's config: the env reference, never the value
    text_columns = _rows(
        twin.url,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'public' and data_type in ('text', 'character varying')",
    )
    assert len(text_columns) > 20
    for table, column in text_columns:
        found = _rows(
            twin.url,
            f'select count(*) from "{table}" where position(%s in "{column}") > 0',
            (twin.password,),
        )
        assert found == [(0,)], f"{table}.{column}"


@pytest.mark.integration
def test_the_dagster_cli_keeps_schedule_state_in_postgresql(twin_on_postgres, monkeypatch) -> None:
    # What an operator does in the UI (the webserver and daemon load the same dagster.yaml):
    # turn the nightly batch off. The state must be in PostgreSQL, where every process sees it.
    twin = twin_on_postgres
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
    assert twin.password not in stopped.stdout + stopped.stderr
    rows = _rows(twin.url, "select instigator_type, status, instigator_body from instigators")
    assert [(kind, status) for kind, status, _ in rows] == [("SCHEDULE", "STOPPED")]
    assert "nightly_scenario_schedule" in rows[0][2]
    # a new instance from that DAGSTER_HOME, as the daemon makes it, reads the same state
    monkeypatch.setenv("TWIN_DAGSTER_POSTGRES", twin.url)
    with dg.DagsterInstance.from_config(str(twin.dagster_home)) as instance:
        states = {state.name: state.status.value for state in instance.all_instigator_state()}
        run_jobs = {run.job_name for run in instance.get_runs()}
    assert states == {"nightly_scenario_schedule": "STOPPED"}
    assert run_jobs == STAGE_JOBS
    assert sorted(twin.dagster_home.rglob("*.db")) == []


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unreachable", "Connection refused"),
        ("wrong password", "password authentication failed"),
        ("missing database", 'database "no_such_db" does not exist'),
        ("not a URL", "the value set is not a URL"),
        ("not PostgreSQL", "not mysql://db:3306"),
        # libpq would read "Pa55" as the port and echo it: refused before any connection
        ("unescaped slash", "percent-encode any / ? # or @"),
    ],
)
def test_a_bad_instance_url_stops_the_run_in_one_sentence_without_the_password(
    case,
    expected,
    postgres_server,  # noqa: F811 (the imported fixture)
    twin_env,
    tmp_path,
    monkeypatch,
    capsys,
) -> None:
    port = postgres_server.port
    url, secret = {
        "unreachable": (f"postgresql://twin_admin:{SECRET}@127.0.0.1:{_closed_port()}/d", SECRET),
        "wrong password": (postgres_server.url(password=SECRET), SECRET),
        "missing database": (postgres_server.url("no_such_db"), postgres_server.password),
        "not a URL": (SECRET, SECRET),
        "not PostgreSQL": (f"mysql://root:{SECRET}@db:3306/dagster", SECRET),
        "unescaped slash": (f"postgresql://twin_admin:Pa55/{SECRET}@127.0.0.1:{port}/d", "Pa55"),
    }[case]
    monkeypatch.setenv("TWIN_DAGSTER_POSTGRES", url)
    twin_env.mkdir(parents=True)
    capsys.readouterr()
    started = time.monotonic()
    assert main(["run"]) == 2
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    message = captured.err.strip()
    assert message.startswith("twin: ")
    assert "\n" not in message
    assert expected in message
    assert secret not in captured.err + captured.out
    if case in ("wrong password", "missing database"):
        assert f"postgresql://127.0.0.1:{port}" in message  # where it tried, redacted
    assert elapsed < 15  # not dagster-postgres's ~12 s of retries (on top of `twin check`)
    assert not (tmp_path / "dagster_home" / "dagster.yaml").exists()  # nothing written


def test_unsetting_the_variable_goes_back_to_sqlite_and_keeps_the_rest(
    postgres_server,  # noqa: F811 (the imported fixture)
    tmp_path,
    monkeypatch,
) -> None:
    home = tmp_path / "instance"
    home.mkdir()
    monkeypatch.setenv("TWIN_DAGSTER_POSTGRES", postgres_server.create_database("twin_toggle"))
    on_postgres = yaml.safe_load(write_instance_config(home).read_text())
    assert "custom" in on_postgres["storage"]
    monkeypatch.delenv("TWIN_DAGSTER_POSTGRES")
    on_sqlite = yaml.safe_load(write_instance_config(home).read_text())
    assert "storage" not in on_sqlite
    assert on_sqlite["concurrency"] == on_postgres["concurrency"]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db:5432/dagster",
        "postgres://u:p@db:5432/dagster",
        "postgresql+psycopg://u:p@db:5432/dagster",  # psycopg 3 breaks dagster-postgres's NOTIFY
    ],
)
def test_every_postgresql_url_reaches_dagster_postgres_with_psycopg2(url) -> None:
    assert with_psycopg2_driver(url) == "postgresql+psycopg2://u:p@db:5432/dagster"
