"""Reading the warehouse from Python steps, read-only (dbt is its only writer)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import duckdb
import pandas as pd

from twin.paths import TwinPaths

# DuckDB refuses a read-only connection while dbt holds the write lock; a dbt build of the demo
# plant takes ~30 s, so wait up to two minutes before giving up with a clear error.
LOCK_WAIT_S = 120.0


def connect(paths: TwinPaths, *, wait_s: float = LOCK_WAIT_S) -> duckdb.DuckDBPyConnection:
    if not paths.warehouse.exists():
        raise FileNotFoundError(
            f"the warehouse {paths.warehouse} does not exist yet: build the KPIs first (twin run)"
        )
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(paths.warehouse), read_only=True)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def read_table(paths: TwinPaths, table: str) -> pd.DataFrame:
    """A whole warehouse table (e.g. ``marts.fct_machine_hourly_features``) as a DataFrame."""
    with connect(paths) as connection:
        return connection.execute(f"select * from {table}").df()


def read_publish_models(paths: TwinPaths, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The warehouse's ``publish.<name>`` models (the tables about to be published), by name."""
    with connect(paths) as connection:
        return {name: connection.execute(f"select * from publish.{name}").df() for name in names}
