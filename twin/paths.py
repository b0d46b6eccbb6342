"""Where twinbridge keeps its state: everything lives under one root, TWIN_HOME.

Layout (DESIGN §3.1, documented for operators in data_contracts/README.md):

    landing/<source>/       files dropped by plant systems (the only folder others write to)
    archive/<source>/       every landed file, immutable, named <batch_id>__<original name>
    quarantine/<source>/    files that could not be loaded, each with a <name>.reason.txt
    lake/                   bronze Parquet written by Python steps, one file per batch
    warehouse/twin.duckdb   the dbt warehouse (dbt is its only writer)
    warehouse/dbt/          dbt's parse state, and the artefacts of a dbt build that failed
    mlflow/                 MLflow tracking database and artifacts
    published/              versioned tables for planning systems
    dagster/                the Dagster instance (DAGSTER_HOME) unless set otherwise
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twin import settings
from twin.settings import DEMO_PLANT

# The plant's systems, then the planning system's (DESIGN §3.5): the same batch, audit, quarantine,
# rejects and GX rules for all of them.
PLANT_SOURCES: tuple[str, ...] = ("historian", "mes_states", "mes_production", "cmms")
PLANNING_SOURCES: tuple[str, ...] = ("demand_plan", "assumed_capacity")
SOURCES: tuple[str, ...] = PLANT_SOURCES + PLANNING_SOURCES
__all__ = ["DEMO_PLANT", "PLANNING_SOURCES", "PLANT_SOURCES", "SOURCES", "TwinPaths", "plant_path"]


@dataclass(frozen=True)
class TwinPaths:
    """All locations derived from one TWIN_HOME root."""

    home: Path

    @classmethod
    def from_env(cls) -> TwinPaths:
        return cls(settings.twin_home())

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def calibrations(self) -> Path:
        """Engine calibrations kept for the scenario runs of a batch (twin.simulation)."""
        return self.lake / "calibrations"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "twin.duckdb"

    @property
    def dbt_builds(self) -> Path:
        return self.home / "warehouse" / "dbt"

    @property
    def mlflow(self) -> Path:
        return self.home / "mlflow"

    @property
    def mlflow_tracking_uri(self) -> str:
        return f"sqlite:///{self.mlflow / 'mlflow.db'}"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.mlflow / "artifacts"

    @property
    def published(self) -> Path:
        return self.home / "published"

    @property
    def dagster_home(self) -> Path:
        return settings.dagster_home(self.home)

    def landing_dir(self, source: str) -> Path:
        return self.landing / source

    def ensure(self) -> TwinPaths:
        """Create the folders that must exist before anything lands or loads."""
        for source in SOURCES:
            (self.landing / source).mkdir(parents=True, exist_ok=True)
        for folder in (
            self.archive,
            self.quarantine,
            self.lake,
            self.warehouse.parent,
            self.published,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def plant_path() -> Path:
    """The plant model in force: TWIN_PLANT, else the demo plant shipped with twinbridge."""
    return settings.plant_file()
