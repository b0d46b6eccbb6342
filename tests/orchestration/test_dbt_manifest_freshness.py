"""The code location parses the dbt project again only when a file dbt reads changed since the
manifest was written (under `dagster dev` every run process would otherwise run `dbt parse`)."""

import os
import shutil

from orchestration.lib.dbt_project import DBT_PROJECT_DIR, manifest_is_current


def _copy_of_the_project(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    manifest = project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    latest = max(f.stat().st_mtime for f in project.rglob("*") if f.is_file())
    os.utime(manifest, (latest + 10, latest + 10))
    return project, manifest


def test_a_manifest_written_after_every_project_file_is_current(tmp_path) -> None:
    project, manifest = _copy_of_the_project(tmp_path)
    assert manifest_is_current(project, manifest)
    # a file dbt does not read (the README) edited later does not make it stale
    later = manifest.stat().st_mtime + 5
    os.utime(project / "README.md", (later, later))
    assert manifest_is_current(project, manifest)


def test_an_edited_model_or_macro_or_project_file_makes_it_stale(tmp_path) -> None:
    for edited in ("models", "macros", "dbt_project.yml"):
        project, manifest = _copy_of_the_project(tmp_path / edited)
        path = project / edited
        target = next(f for f in path.rglob("*.sql")) if path.is_dir() else path
        later = manifest.stat().st_mtime + 5
        os.utime(target, (later, later))
        assert not manifest_is_current(project, manifest), edited


def test_no_manifest_is_not_current(tmp_path) -> None:
    project, manifest = _copy_of_the_project(tmp_path)
    manifest.unlink()
    assert not manifest_is_current(project, manifest)
