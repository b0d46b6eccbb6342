"""Writing reference tables into the lake atomically (no Dagster imports)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.paths import TwinPaths


def temp_path_for(path: Path) -> Path:
    """A hidden sibling name unique per writer, ending in .tmp so no glob or landing scan takes it.

    Unique because two runs refreshing the same file at once must not rename each other's
    half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary name and rename into place, so readers never see half a file."""
    tmp = temp_path_for(path)
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_text_atomically(path: Path, text: str) -> None:
    tmp = temp_path_for(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_plant_tables(paths: TwinPaths, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        write_parquet_atomically(
            pa.Table.from_pandas(frame, preserve_index=False),
            paths.lake / "plant" / f"{name}.parquet",
        )
