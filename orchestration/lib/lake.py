"""Writing reference tables into the lake atomically (no Dagster imports)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.paths import TwinPaths


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary name and rename into place, so readers never see half a file.

    The temporary name is unique per writer: two runs refreshing the same table at once must not
    rename each other's half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_plant_tables(paths: TwinPaths, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        write_parquet_atomically(
            pa.Table.from_pandas(frame, preserve_index=False),
            paths.lake / "plant" / f"{name}.parquet",
        )
