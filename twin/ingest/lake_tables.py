"""Bronze table folders in the lake: where a batch's Parquet goes, and the empty schema files."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from twin.files import write_parquet_atomically
from twin.ingest.sources import REJECTS_SCHEMA, SPECS, lake_schema
from twin.paths import TwinPaths

EMPTY = "_empty.parquet"


def table_file(paths: TwinPaths, source: str, batch_id: str) -> Path:
    return paths.lake / source / f"{batch_id}.parquet"


def rejects_file(paths: TwinPaths, source: str, batch_id: str) -> Path:
    return paths.lake / "rejects" / source / f"{batch_id}.parquet"


def ensure_lake(paths: TwinPaths) -> None:
    """Write ``_empty.parquet`` (zero rows, the table's schema) in every bronze and rejects folder.

    dbt globs ``lake/<source>/*.parquet``; the empty file makes the glob match, with the right
    types, before the first batch of a source arrives.
    """
    for source in SPECS:
        for folder, schema in (
            (paths.lake / source, lake_schema(source)),
            (paths.lake / "rejects" / source, REJECTS_SCHEMA),
        ):
            target = folder / EMPTY
            if target.exists() and pq.read_schema(target).equals(schema):
                continue
            write_parquet_atomically(schema.empty_table(), target)
    (paths.lake / "batches").mkdir(parents=True, exist_ok=True)
