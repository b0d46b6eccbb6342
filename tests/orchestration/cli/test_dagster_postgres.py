"""Choosing the Dagster instance's storage (TWIN_DAGSTER_POSTGRES, DESIGN §3.7), on a real server.

A URL that is wrong or unreachable stops the command in one sentence that shows no password;
unsetting the variable goes back to SQLite; every PostgreSQL URL reaches dagster-postgres with
psycopg2. A whole `twin run` with the instance on PostgreSQL (and its steps on Celery workers) is
tests/integration/test_distributed_twin.py.
"""

from __future__ import annotations

import time

import dagster as dg
import pytest
import yaml

from orchestration.cli.commands import main
from orchestration.cli.instance_config import write_instance_config
from orchestration.lib.postgres_instance import with_psycopg2_driver
from tests.support.ports import free_port
from tests.support.postgres_server import postgres_server  # noqa: F401 (session fixture)

SECRET = "Pa55-not-for-logs"


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
        "unreachable": (f"postgresql://twin_admin:{SECRET}@127.0.0.1:{free_port()}/d", SECRET),
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
