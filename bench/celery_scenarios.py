"""The nightly scenario batch in-process, on one Celery worker and on two (not a test).

    python -m bench.celery_scenarios [--days 28] [--seed 7] [--root DIR]

(from the repository root: it starts its Redis server with ``tests.support.redis_server``.)

One twin, prepared once: the demo plant, ``--days`` generated days and a 13-week demand plan,
`twin run` in-process up to the publication (the KPIs, the risk scores and the fitted parameters
the scenarios start from). Then the same scenario batch `twin run` runs (the shipped scenarios, 500
replications x 13 weeks each, one Dagster run per scenario, two runs at a time) three times on the
same data with the same seeds: in-process (no broker), with `twin workers --count 1`, and with
`twin workers --count 2`, a private redis-server as broker. Prints the seconds of each batch and
whether its capacity tables equal the in-process ones row for row.

The workers are started and ready before a batch is timed (they are long-lived in production);
each worker's first step still loads the code location (~5 s), which the in-process runs pay in
their pool processes too. The machine is shared: compare the rows of one run, not across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SCENARIO_JOB = "scenario_batch_job"
RUN_STAMPS = ("run_id", "simulated_at")
START = dt.date(2026, 9, 7)  # a Monday: whole weeks, no holiday of the demo plant nearby


def _environment(root: Path) -> dict[str, str]:
    """This process's environment without any twin setting, pointed at the bench's own twin."""
    dropped = ("DAGSTER_HOME", "MLFLOW_TRACKING_URI")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("TWIN_") or k in dropped)}
    return {
        **env,
        "TWIN_HOME": str(root / "home"),
        "DAGSTER_HOME": str(root / "dagster"),
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def _twin(env: dict[str, str], *args: str) -> None:
    twin = Path(sys.executable).with_name("twin")
    done = subprocess.run([str(twin), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"twin {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _batch(env: dict[str, str]) -> float:
    """Seconds of one scenario batch, run by `twin run`'s own code in a fresh process."""
    command = [sys.executable, "-m", "bench.celery_scenarios", "--batch-only"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the batch failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run_batch_here() -> float:
    """The scenario batch exactly as `twin run` runs it (``runner.run_partitions``): in-process
    runs, or runs whose steps go to the workers when TWIN_CELERY_BROKER is set."""
    from orchestration.cli import runner
    from orchestration.defs.simulation.partitions import scenario_ids
    from twin import settings

    ids = scenario_ids()  # the scenario set in force: the batch's partitions
    home = Path(os.environ["TWIN_HOME"])
    log = home / "logs" / "bench-runs.log"
    dagster_home = settings.dagster_home(home)
    began = time.perf_counter()
    runs = runner.run_partitions(SCENARIO_JOB, ids, ids, dagster_home, log, lambda _: None)
    seconds = time.perf_counter() - began
    failed = [r.partition for r in runs if not r.success]
    if failed:
        raise RuntimeError(f"scenario runs failed: {failed}")
    return seconds


def capacity_tables(home: Path) -> dict[str, pd.DataFrame]:
    """Every scenario's simulation outputs (what the publication reads), in one row order."""
    from twin.paths import TwinPaths
    from twin.publish.inputs import INPUTS

    lake = TwinPaths(home).lake
    tables = {}
    for spec in INPUTS:
        files = sorted(
            p for p in (lake / spec.folder).glob("*.parquet") if p.name != spec.schema_file
        )
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        frame = frame.drop(columns=[c for c in RUN_STAMPS if c in frame.columns])
        tables[spec.name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return tables


def _same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> bool:
    return left.keys() == right.keys() and all(left[k].equals(right[k]) for k in left)


def bench(root: Path, days: int, seed: int) -> list[tuple[str, float, bool, int]]:
    from tests.support.redis_server import RedisServer, twin_workers

    env = _environment(root)
    began = time.perf_counter()
    start = START.isoformat()
    _twin(
        env,
        "generate",
        "--days",
        str(days),
        "--start",
        start,
        "--seed",
        str(seed),
        "--demand-plan",
        "13",
    )
    _twin(env, "run")
    print(f"prepared the twin ({days} days, seed {seed}) in {time.perf_counter() - began:.0f} s")
    rows = []
    seconds = _batch(env)
    reference = capacity_tables(root / "home")
    rows.append(("in-process (2 runs at a time)", seconds, True, len(reference["capacity_runs"])))
    with RedisServer.start() as redis:
        on_celery = {**env, "TWIN_CELERY_BROKER": redis.url()}
        for count in (1, 2):
            with twin_workers(on_celery, count, root / f"workers-{count}.out"):
                seconds = _batch(on_celery)
            tables = capacity_tables(root / "home")
            rows.append(
                (
                    f"{count} Celery worker(s)",
                    seconds,
                    _same(reference, tables),
                    len(tables["capacity_runs"]),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--root", type=Path, help="where the twin is made (default: a temp dir)")
    parser.add_argument("--batch-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch_only:  # the child process of _batch: one batch in the environment it was given
        print(f"{run_batch_here():.2f}")  # read by the parent
        return
    root = args.root or Path(tempfile.mkdtemp(prefix="bench-celery-"))
    rows = bench(root.resolve(), args.days, args.seed)
    print(f"{'configuration':32}  {'seconds':>8}  {'rows':>7}  same capacity tables as in-process")
    for name, seconds, same, count in rows:
        print(f"{name:32}  {seconds:8.1f}  {count:7}  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
