"""Where twinbridge keeps its state: everything lives under one root, TWIN_HOME.

Layout (DESIGN §3.1, documented for operators in data_contracts/README.md):

    landing/<source>/       files dropped by plant systems (the only folder others write to)
    archive/<source>/       every landed file, immutable, named <batch_id>__<original name>
    quarantine/<source>/    files that could not be loaded, each with a <name>.reason.txt
    lake/                   bronze Parquet written by Python steps, one file per batch
    warehouse/twin.duckdb   the dbt warehouse (dbt is its only writer)
    mlflow/                 MLflow tracking database and artifacts
    published/              versioned tables for planning systems
    dagster/                the Dagster instance (DAGSTER_HOME) unless set otherwise
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SOURCES: tuple[str, ...] = ("historian", "mes_states", "mes_production", "cmms")
DEMO_PLANT = Path(__file__).resolve().parent / "plants" / "demo.yaml"


@dataclass(frozen=True)
class TwinPaths:
    """All locations derived from one TWIN_HOME root."""

    home: Path

    @classmethod
    def from_env(cls) -> TwinPaths:
        return cls(Path(os.environ.get("TWIN_HOME", "data")).resolve())

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
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "twin.duckdb"

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
        return Path(os.environ.get("DAGSTER_HOME") or self.home / "dagster").resolve()

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
    return Path(os.environ.get("TWIN_PLANT") or DEMO_PLANT).resolve()
