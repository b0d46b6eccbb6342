"""The dbt project as Dagster sees it, and how its models map to asset keys and groups."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.lib.conditions import check_with_its_asset, refresh_after_new_data
from twin.paths import SOURCES

RAW_KEYS = [dg.AssetKey(["raw", source]) for source in SOURCES]
# any one raw asset stands for the load runs, which plan all of them (TwinDbtTranslator)
LOAD_IN_PROGRESS = RAW_KEYS[:1]
# a failed or quarantined batch never materializes its partition; the KPIs go on without it
RAW_BATCHES = dg.AssetSelection.assets(*RAW_KEYS)
DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


# what dbt reads when it parses: a change to any of these makes the manifest stale
PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "tests",
    "analyses",
    "seeds",
)


@cache
def get_dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # Under `dagster dev` (and so `twin ui`) dagster-dbt parses the project on every load of the
    # code location, run processes included: `dbt --version` and `dbt parse`, ~4 s of a run's
    # start-up on two cores, each writing the same manifest. Parse only when a project file is
    # newer than the manifest (an edited model still shows after a reload of the code location);
    # `make manifest` and `twin` prepare it otherwise.
    if not manifest_is_current(DBT_PROJECT_DIR, Path(project.manifest_path)):
        project.prepare_if_dev()
    return project


def manifest_is_current(project_dir: Path, manifest: Path) -> bool:
    """Whether ``manifest`` was written after every file dbt parses in ``project_dir``."""
    if not manifest.exists():
        return False
    written = manifest.stat().st_mtime
    for name in PROJECT_FILES:
        path = project_dir / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(f.is_file() and f.stat().st_mtime > written for f in files):
            return False
    return True


class TwinDbtTranslator(DagsterDbtTranslator):
    """Key models as [<layer>, <model>], group them by layer (the folder under models/), and rebuild
    them by themselves when their inputs get new data."""

    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # all plant reference tables share the raw/plant_model asset key
                enable_duplicate_source_asset_keys=True,
            )
        )

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] != "model":
            return spec  # sources keep the key from meta.dagster.asset_key
        layer = props["fqn"][1]  # models/<layer>/<domain>/<name>.sql
        # Only staging reads the lake: while loads run it is not requested, so nothing below it
        # is either. Waiting in every model too cost most of an automation tick (each wait is a
        # query over the loads' dynamic partitions) and held nothing more back. The plant model's
        # staging views wait as well, though no load updates them: on a fresh twin they would
        # otherwise be built while the first loads run, and the KPI models below them then came
        # in one run per layer (six dbt runs for the first burst instead of one). They wait for one
        # raw asset: every load run (ingest_job) plans all five, a source absent from the burst
        # being a skipped output, so one of them in progress is a load in progress. Each waited
        # key cost ~30 queries of the dynamic partitions per model and tick: with all five, 560
        # queries made an automation tick ~1.6 s of CPU, most of an idle twin's load.
        wait_for = LOAD_IN_PROGRESS if layer == "staging" else ()
        return spec.replace_attributes(
            key=dg.AssetKey([layer, props["name"]]),
            group_name=layer,
            kinds={"dbt", "duckdb"},
            automation_condition=refresh_after_new_data(
                may_be_missing=RAW_BATCHES, wait_for=wait_for
            ),
        )

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        # dbt tests run in the same `dbt build` as their model when automation rebuilds it
        return spec and spec._replace(automation_condition=check_with_its_asset())
