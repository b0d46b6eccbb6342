"""The Dagster instance config (`DAGSTER_HOME/dagster.yaml`) the CLI installs (DESIGN §3.7).

It is the repository's dagster.yaml (concurrency pools, run limits, telemetry off) plus, while
TWIN_DAGSTER_POSTGRES is set, run, event-log and schedule storage on that PostgreSQL database
(dagster-postgres). The file names the variable, not its value: the password never lands on disk,
and every process that loads the instance (`twin run`, the webserver and daemon of `twin ui`,
Celery workers) reads the URL from its own environment.

Before the file is written the database must take a connection: an unreachable or malformed URL
ends the command in one sentence (UserError) instead of dagster-postgres's retries and traceback.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.cli.errors import UserError
from twin import settings

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_STORAGE = {
    "custom": {
        "module": "orchestration.lib.postgres_instance",
        "class": "TwinPostgresStorage",
        "config": {"postgres_url": {"env": "TWIN_DAGSTER_POSTGRES"}},
    }
}


def instance_config(current: dict | None) -> dict:
    """``current`` (else the repository's dagster.yaml) with the storage the environment asks for.

    A storage section an operator wrote is left alone; ours follows TWIN_DAGSTER_POSTGRES both
    ways, so unsetting it goes back to SQLite instead of failing on a variable that is gone.
    """
    base = current if current is not None else _repo_config()
    config = dict(base)
    ours = config.get("storage") == POSTGRES_STORAGE
    if settings.dagster_postgres_url():
        if "storage" not in config or ours:
            config["storage"] = POSTGRES_STORAGE
    elif ours:
        del config["storage"]
    return config


def write_instance_config(dagster_home: Path) -> Path:
    """Create or update ``dagster_home``/dagster.yaml; rewritten only when the storage changes, so
    an operator's own settings and comments survive. UserError if TWIN_DAGSTER_POSTGRES is set
    and its database does not take a connection."""
    url = settings.dagster_postgres_url()
    if url:
        from orchestration.lib.postgres_instance import DagsterPostgresUnavailable, check_reachable

        try:
            check_reachable(url)
        except DagsterPostgresUnavailable as error:
            raise UserError(str(error)) from None
    target = dagster_home / "dagster.yaml"
    current = (yaml.safe_load(target.read_text()) or {}) if target.exists() else None
    wanted = instance_config(current)
    if current is None:
        text = (REPO_ROOT / "dagster.yaml").read_text()
        extra = {k: v for k, v in wanted.items() if k not in _repo_config()}
        target.write_text(text + (yaml.safe_dump(extra, sort_keys=False) if extra else ""))
    elif wanted != current:
        target.write_text(yaml.safe_dump(wanted, sort_keys=False))
    return target


def _repo_config() -> dict:
    return yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text()) or {}
