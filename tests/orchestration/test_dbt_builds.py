"""A twin's dbt builds start from the parse state of its last successful build (real dbt)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.lib.dbt_builds import PARSE_STATE, finish_build, new_build_folder
from orchestration.lib.dbt_project import DBT_PROJECT_DIR
from twin.paths import TwinPaths

pytestmark = pytest.mark.integration
FULL_PARSE = "Unable to do partial parsing"


def _parse(paths: TwinPaths, folder: Path) -> str:
    """`dbt parse` as the twin's build runs it: this twin's home as a var, its own folder."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "parse",
            "--vars",
            json.dumps({"twin_home": str(paths.home)}),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(folder),
            "--no-use-colors",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return done.stdout


def test_the_second_build_parses_partially_and_no_build_folder_stays(tmp_path) -> None:
    paths = TwinPaths(tmp_path / "home").ensure()
    first = new_build_folder(paths, "run-1")
    assert not (first / PARSE_STATE).exists()  # nothing to start from yet
    assert FULL_PARSE in _parse(paths, first)
    finish_build(paths, first)
    assert sorted(p.name for p in paths.dbt_builds.iterdir()) == [PARSE_STATE]

    second = new_build_folder(paths, "run-2")
    assert (second / PARSE_STATE).read_bytes() == (paths.dbt_builds / PARSE_STATE).read_bytes()
    assert FULL_PARSE not in _parse(paths, second)
    finish_build(paths, second)
    assert sorted(p.name for p in paths.dbt_builds.iterdir()) == [PARSE_STATE]


def test_another_twins_state_is_not_taken_for_its_own(tmp_path) -> None:
    # the profile reads twin_home: a state parsed for one home must not pass for another's
    one, other = (TwinPaths(tmp_path / name).ensure() for name in ("one", "other"))
    first = new_build_folder(one, "run-1")
    _parse(one, first)
    finish_build(one, first)
    folder = new_build_folder(other, "run-1")
    (folder / PARSE_STATE).write_bytes((one.dbt_builds / PARSE_STATE).read_bytes())
    assert FULL_PARSE in _parse(other, folder)
