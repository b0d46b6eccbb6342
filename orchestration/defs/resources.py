"""The one place resources are bound; values come from the environment (see .env.example)."""

import os
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.lib.dbt_project import get_dbt_project
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin.paths import TwinPaths, plant_path


def dbt_executable() -> str:
    """The dbt installed next to this Python: `make demo` runs .venv/bin/twin without activating."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


@dg.definitions
def resources() -> dg.Definitions:
    # Read when the code location loads, never at import: TWIN_HOME defaults to ./data (DESIGN §3.1).
    home = TwinPaths.from_env().home
    # dbt's profile reads TWIN_HOME itself; make sure it sees the same absolute root.
    os.environ["TWIN_HOME"] = str(home)
    return dg.Definitions(
        resources={
            "twin": TwinHome(home=str(home), plant_file=str(plant_path())),
            "dbt": DbtCliResource(project_dir=get_dbt_project(), dbt_executable=dbt_executable()),
            "model_registry": ModelRegistry(
                tracking_uri=os.environ.get("MLFLOW_TRACKING_URI")
                or TwinPaths(home).mlflow_tracking_uri,
                artifact_root=str(TwinPaths(home).mlflow_artifacts),
                review_required=os.environ.get("TWIN_MODEL_REVIEW", "").lower()
                in {"1", "true", "yes"},
            ),
        }
    )
