"""Fixtures for integration tests: a tiny lake in the ingest's bronze layout (data_contracts/README.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twin.ingest.sources import SPECS, lake_schema
from twin.plant.model import Plant, parse_plant
from twin.plant.tables import plant_tables

# A two-machine serial line in Europe/Berlin with a shift that crosses midnight.
TINY_PLANT: dict[str, Any] = {
    "site": {"id": "SITE1", "name": "Tiny test plant", "timezone": "Europe/Berlin"},
    "calendar": {
        "shifts": [
            {
                "name": "day",
                "start": "06:00",
                "end": "18:00",
                "days": ["mon", "tue", "wed", "thu", "fri"],
            },
            {
                "name": "night",
                "start": "22:00",
                "end": "06:00",
                "days": ["mon", "tue", "wed", "thu"],
            },
        ],
        "holidays": ["2026-04-03"],
    },
    "products": [{"id": "P1", "family": "widgets"}],
    "lines": [
        {
            "id": "L1",
            "buffer_capacity": 5,
            "machines": [
                {
                    "id": "L1-M1",
                    "type": "press",
                    "ideal_cycle_time_s": {"P1": 30.0},
                    "changeover_min": 10,
                    "planned_maintenance": [{"every_days": 28, "duration_h": 2}],
                    "tags": [
                        {
                            "tag": "L1-M1.power",
                            "signal": "power",
                            "unit": "kW",
                            "period_s": 60,
                            "min": 0,
                            "max": 100,
                        },
                        {
                            "tag": "L1-M1.temp",
                            "signal": "temperature",
                            "unit": "degC",
                            "period_s": 60,
                            "min": -20,
                            "max": 200,
                        },
                    ],
                },
                {
                    "id": "L1-M2",
                    "type": "inspection",
                    "ideal_cycle_time_s": {"P1": 36.0},
                    "changeover_min": 5,
                    "planned_maintenance": [],
                    "tags": [
                        {
                            "tag": "L1-M2.power",
                            "signal": "power",
                            "unit": "kW",
                            "period_s": 60,
                            "min": 0,
                            "max": 50,
                        },
                    ],
                },
            ],
        }
    ],
}


def tiny_plant() -> Plant:
    return parse_plant(TINY_PLANT, source="tiny test plant")


class TinyLake:
    """Writes bronze batches and plant tables under <home>/lake the way the ingest does."""

    def __init__(self, home: Path, plant: Plant, first: dt.date, last: dt.date) -> None:
        self.home = home
        self.lake = home / "lake"
        (home / "warehouse").mkdir(parents=True, exist_ok=True)
        # Every bronze folder the ingest keeps, with its empty schema file, as `ensure_lake` writes it.
        for source in SPECS:
            folder = self.lake / source
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(lake_schema(source).empty_table(), folder / "_empty.parquet")
        plant_dir = self.lake / "plant"
        plant_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in plant_tables(plant, first, last).items():
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), plant_dir / f"{name}.parquet"
            )

    def write_batch(
        self, source: str, batch_id: str, rows: Iterable[Mapping[str, Any]], loaded_at: dt.datetime
    ) -> Path:
        schema = lake_schema(source)
        records = [{**row, "batch_id": batch_id, "loaded_at": loaded_at} for row in rows]
        columns = {name: [r.get(name) for r in records] for name in schema.names}
        path = self.lake / source / f"{batch_id}.parquet"
        pq.write_table(pa.table(columns, schema=schema), path)
        return path


@pytest.fixture
def tiny_lake_factory(tmp_path: Path):
    """Build an empty tiny lake (plant tables for the given date span) under tmp_path/home."""

    def make(first: dt.date, last: dt.date) -> TinyLake:
        return TinyLake(tmp_path / "home", tiny_plant(), first, last)

    return make
