"""Fixtures for integration tests: a tiny lake in the exact bronze layout (data_contracts/README.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twin.plant.model import Plant, parse_plant
from twin.plant.tables import plant_tables

TS = pa.timestamp("us")
BATCH_COLUMNS = [("batch_id", pa.string()), ("loaded_at", TS)]

# Bronze schemas, column for column as the ingest writes them (data_contracts/README.md, "The lake").
LAKE_SCHEMAS: dict[str, pa.Schema] = {
    "historian": pa.schema(
        [
            ("tag", pa.string()),
            ("ts", TS),
            ("value", pa.float64()),
            ("quality", pa.string()),
            *BATCH_COLUMNS,
        ]
    ),
    "mes_states": pa.schema(
        [
            ("machine_id", pa.string()),
            ("state", pa.string()),
            ("start_ts", TS),
            ("end_ts", TS),
            ("reason_code", pa.string()),
            *BATCH_COLUMNS,
        ]
    ),
    "mes_production": pa.schema(
        [
            ("machine_id", pa.string()),
            ("start_ts", TS),
            ("end_ts", TS),
            ("product_id", pa.string()),
            ("work_order_id", pa.string()),
            ("good_qty", pa.int64()),
            ("scrap_qty", pa.int64()),
            *BATCH_COLUMNS,
        ]
    ),
    "cmms": pa.schema(
        [
            ("work_order_id", pa.string()),
            ("machine_id", pa.string()),
            ("type", pa.string()),
            ("failure_mode", pa.string()),
            ("reported_ts", TS),
            ("start_ts", TS),
            ("end_ts", TS),
            *BATCH_COLUMNS,
        ]
    ),
}

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
        for source, schema in LAKE_SCHEMAS.items():
            folder = self.lake / source
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(schema.empty_table(), folder / "_empty.parquet")
        plant_dir = self.lake / "plant"
        plant_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in plant_tables(plant, first, last).items():
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), plant_dir / f"{name}.parquet"
            )

    def write_batch(
        self, source: str, batch_id: str, rows: Iterable[Mapping[str, Any]], loaded_at: dt.datetime
    ) -> Path:
        schema = LAKE_SCHEMAS[source]
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
