"""Resources the assets share: where TWIN_HOME is and which plant model is in force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from twin.paths import TwinPaths
from twin.plant.model import Plant, load_plant
from twin.settings import redact_url

if TYPE_CHECKING:
    from ml.registry import FailureModelRegistry


class TwinHome(dg.ConfigurableResource):
    """The twin's state root (TWIN_HOME) and its plant model (TWIN_PLANT)."""

    home: str
    plant_file: str

    @property
    def paths(self) -> TwinPaths:
        return TwinPaths(Path(self.home).resolve())

    def plant(self) -> Plant:
        return load_plant(self.plant_file)

    def dbt_vars(self) -> list[str]:
        """dbt arguments pointing the profile and the lake sources at this root (an absolute path,
        so dbt's working directory does not matter and nothing has to write the environment)."""
        return ["--vars", json.dumps({"twin_home": str(self.paths.home)})]


class ModelRegistry(dg.ConfigurableResource):
    """The MLflow tracking store and model registry (SQLite under TWIN_HOME by default)."""

    tracking_uri: str
    artifact_root: str
    # Reviewer mode: a challenger that passed the gate waits for a reviewer's `review=approved` tag.
    review_required: bool = False

    def __repr_args__(self):
        # MLFLOW_TRACKING_URI may hold a database password: reprs (logs, errors) show its host only.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "tracking_uri" else value

    def registry(self) -> FailureModelRegistry:
        # MLflow and skops take seconds to import: only runs that use the registry pay for them
        from ml.registry import FailureModelRegistry

        return FailureModelRegistry(self.tracking_uri, artifact_root=self.artifact_root)
