"""`dbt build` of the real project in a subprocess, as the dbt integration tests run it.

A subprocess because dbt-duckdb keeps its connection open for the life of the process; target and
logs go under the test's own folder so tests never share dbt artefacts. Builds for one TWIN_HOME
start from the parse state the home's last build left, as the twin's own builds do
(orchestration/lib/dbt_builds.py): a test's second build of a home parses partially.
"""

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestration.lib.dbt_builds import keep_parse_state, seed_parse_state
from twin.paths import TwinPaths

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def dbt_build(
    work: Path,
    *select: str,
    home: Path | None = None,
    timeout: int = 300,
    args: Sequence[str] = (),
    command: str = "build",
) -> subprocess.CompletedProcess:
    """``dbt build [--select ...]``; with a selection only tests whose every parent is built run
    (relationships to marts outside it stay out). ``home``: TWIN_HOME for this build; ``args``:
    more dbt arguments (``--vars``, ``--full-refresh``); ``command``: ``run`` skips the tests."""
    selection = ["--select", *select, "--indirect-selection", "cautious"] if select else []
    env = {**os.environ, "TWIN_HOME": str(home)} if home else None
    target = work / "dbt_target"
    if home:
        seed_parse_state(TwinPaths(home), target)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            command,
            *selection,
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(target),
            "--log-path",
            str(work / "dbt_logs"),
            "--no-use-colors",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    if home and done.returncode == 0:
        keep_parse_state(TwinPaths(home), target)
    return done


def built_results(work: Path, proc: subprocess.CompletedProcess) -> list[dict]:
    """The run results of a build that must have succeeded; every node passed."""
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    results = json.loads((work / "dbt_target" / "run_results.json").read_text())["results"]
    not_ok = [
        (r["unique_id"], r["status"]) for r in results if r["status"] not in {"success", "pass"}
    ]
    assert not not_ok, not_ok
    return results
