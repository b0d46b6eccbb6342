"""Where a twin's dbt build writes its artefacts, and the parse state the next build starts from.

dagster-dbt gives every invocation its own folder under the project's ``target/`` and seeds it with
the project's ``partial_parse.msgpack`` (from `make manifest`). A twin's build passes its TWIN_HOME
as a var that the profile reads, so that state never matched: every build parsed the whole project
again (~5 s of CPU, twice the partial parse), and every build left ~11 MB of artefacts in the
project folder, without end. Here each build writes under the twin's own ``warehouse/dbt/``,
starts from the parse state the twin's last successful build left there (dbt re-parses whatever
changed since, or everything when the project, vars or profile differ), and removes its folder when
it succeeds; a failed build keeps its artefacts (run_results.json, manifest.json) for the engineer.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from twin.paths import TwinPaths

PARSE_STATE = "partial_parse.msgpack"


def seed_parse_state(paths: TwinPaths, folder: Path) -> None:
    """Put the twin's parse state, if it has one, into a dbt target ``folder`` that has none."""
    state = paths.dbt_builds / PARSE_STATE
    if state.exists() and not (folder / PARSE_STATE).exists():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, folder / PARSE_STATE)


def keep_parse_state(paths: TwinPaths, folder: Path) -> None:
    """After a successful build in ``folder``: its parse state becomes the twin's (one rename, so
    a build starting meanwhile copies the old state or the new one)."""
    state = folder / PARSE_STATE
    if state.exists():
        paths.dbt_builds.mkdir(parents=True, exist_ok=True)
        os.replace(state, paths.dbt_builds / PARSE_STATE)


def new_build_folder(paths: TwinPaths, run_id: str) -> Path:
    """A fresh folder for one dbt invocation of run ``run_id``, seeded with the twin's parse state."""
    folder = paths.dbt_builds / f"{run_id}-{uuid.uuid4().hex[:7]}"
    folder.mkdir(parents=True)
    seed_parse_state(paths, folder)
    return folder


def finish_build(paths: TwinPaths, folder: Path) -> None:
    """After a successful build: keep its parse state, remove its folder."""
    keep_parse_state(paths, folder)
    shutil.rmtree(folder, ignore_errors=True)
