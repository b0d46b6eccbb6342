"""`twin workers`: Celery worker processes for the scenario batch and the batch loads (DESIGN §3.7).

Each worker is its own process (`python -m orchestration.cli.workers --name NAME`) consuming
dagster-celery's queue on TWIN_CELERY_BROKER, one step at a time, with the environment of the
command that started it: the same TWIN_HOME, plant model, scenarios and Dagster instance variables
as the runs whose steps it takes. The broker URL is read from the environment, never passed on a
command line (where `ps` would show its password).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from orchestration.cli.errors import UserError
from twin import settings

WORKER_COMMAND = (sys.executable, "-m", "orchestration.cli.workers")


def broker_or_error() -> str:
    broker = settings.celery_broker_url()
    if broker is None:
        raise UserError("TWIN_CELERY_BROKER is not set: point it at the Redis server the runs use")
    return broker


def worker_app(broker: str):
    """dagster-celery's app with its step task, configured as the runs' executor is."""
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    from orchestration.defs.executors import celery_app_args

    app = make_app(celery_app_args(broker))
    create_task(app)
    return app


def run_worker(name: str, log_file: Path | None) -> None:
    """Serve steps in this process until it is stopped (the solo pool: steps run right here, so
    the code location is loaded once per worker, not once per step)."""
    from orchestration.defs.executors import CELERY_QUEUE

    argv = ["worker", "--pool", "solo", "--hostname", f"{name}@%h", "--queues", CELERY_QUEUE]
    argv += ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    if log_file is not None:
        argv += ["--logfile", str(log_file)]
    worker_app(broker_or_error()).worker_main(argv)


def start_workers(count: int, log_dir: Path, env: dict | None = None) -> list[subprocess.Popen]:
    """Start ``count`` worker processes (twin-1 … twin-N), each leading its own process group."""
    if count < 1:
        raise UserError(f"--count must be at least 1, not {count}")
    log_dir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                *WORKER_COMMAND,
                "--name",
                f"twin-{number}",
                "--log-file",
                str(log_dir / f"celery-worker-{number}.log"),
            ],
            env=env or dict(os.environ),
            start_new_session=True,
        )
        for number in range(1, count + 1)
    ]


def serve(
    count: int, log_dir: Path, announce: Callable[[str], None], env: dict[str, str] | None = None
) -> int:
    """Run ``count`` workers in the foreground until SIGINT/SIGTERM, then stop them all (``env``:
    theirs, else this process's)."""
    from orchestration.cli.ui import stop_process_groups

    broker = broker_or_error()
    # the handlers first: a SIGTERM right after the start must still stop the workers, which lead
    # their own process groups and would otherwise outlive this process
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    children = start_workers(count, log_dir, env)
    announce(
        f"{count} Celery worker(s) on {settings.redact_url(broker)}, logs in {log_dir} "
        "(Ctrl-C stops them)"
    )
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop_process_groups(children)
    return 0 if stopping else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one twinbridge Celery worker process")
    parser.add_argument("--name", required=True)
    parser.add_argument("--log-file", type=Path)
    args = parser.parse_args(argv)
    run_worker(args.name, args.log_file)


if __name__ == "__main__":
    main()
