"""dbt models as Dagster assets (staging, intermediate, KPI marts); dbt tests surface as asset checks."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.lib.dbt_builds import finish_build, new_build_folder
from orchestration.lib.dbt_project import TwinDbtTranslator, get_dbt_project
from orchestration.lib.resources import TwinHome


# pool="warehouse": dbt is the only writer of the warehouse file and DuckDB allows one writer per
# file, so dbt invocations queue instead of failing on the lock (limit 1 in dagster.yaml).
@dbt_assets(
    manifest=get_dbt_project().manifest_path,
    project=get_dbt_project(),
    dagster_dbt_translator=TwinDbtTranslator(),
    pool="warehouse",
)
def twin_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, twin: TwinHome):
    """Build (run and test) the selected dbt models: staging views, intermediate steps and KPI marts."""
    folder = new_build_folder(twin.paths, context.run.run_id)
    yield from dbt.cli(["build", *twin.dbt_vars()], context=context, target_path=folder).stream()
    finish_build(twin.paths, folder)  # not reached when the build fails: its artefacts stay
