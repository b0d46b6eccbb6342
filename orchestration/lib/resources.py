"""Resources the assets share: where TWIN_HOME is and which plant model is in force."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from twin.paths import TwinPaths
from twin.plant import Plant, load_plant


class TwinHome(dg.ConfigurableResource):
    """The twin's state root (TWIN_HOME) and its plant model (TWIN_PLANT)."""

    home: str
    plant_file: str

    @property
    def paths(self) -> TwinPaths:
        return TwinPaths(Path(self.home).resolve())

    def plant(self) -> Plant:
        return load_plant(self.plant_file)
