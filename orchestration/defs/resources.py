"""The one place resources are bound; values come from the environment (see .env.example)."""

import sys
from functools import cached_property
from importlib import metadata
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.lib.dbt_project import get_dbt_project
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin import settings
from twin.paths import TwinPaths, plant_path


def dbt_executable() -> str:
    """The dbt installed next to this Python: `make demo` runs .venv/bin/twin without activating."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


class TwinDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, told the dbt version instead of asking `dbt --version`.

    Every run's resource asks once per invocation: a dbt process that imports dbt-core only to
    print its version, ~1.8 s of CPU per build, on two cores. The dbt beside this Python is the
    dbt-core this Python has installed; any other executable is still asked.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == Path(sys.executable).with_name("dbt"):
            return version.parse(metadata.version("dbt-core"))
        return super()._cli_version


@dg.definitions
def resources() -> dg.Definitions:
    # Read when the code location loads, never at import: TWIN_HOME defaults to ./data (DESIGN §3.1).
    home = TwinPaths.from_env().home
    return dg.Definitions(
        resources={
            "twin": TwinHome(home=str(home), plant_file=str(plant_path())),
            "dbt": TwinDbtCliResource(
                project_dir=get_dbt_project(), dbt_executable=dbt_executable()
            ),
            "model_registry": ModelRegistry(
                # An EnvVar shows in the UI as the variable's name: a server URL may hold a password.
                tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI")
                if settings.mlflow_tracking_uri()
                else TwinPaths(home).mlflow_tracking_uri,
                artifact_root=str(TwinPaths(home).mlflow_artifacts),
                review_required=settings.model_review_required(),
            ),
        }
    )
