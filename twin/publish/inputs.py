"""Lake inputs of the publication layer: their Parquet schemas and the zero-row schema files.

Layout (documented in data_contracts/README.md, "Publication inputs"):

    lake/simulation/<scenario_id>.parquet                 capacity rows (capacity_supply minus lineage
                                                          + run_id, simulated_at)
    lake/simulation/constraint_map/<scenario_id>.parquet  constraint_map minus publication_id
    lake/simulation/prediction_effect/<scenario_id>.parquet
                                                          prediction_effect minus model_version and
                                                          publication_id (baseline scenario only)
    lake/simulation/capacity_feasibility/<scenario_id>.parquet
                                                          capacity_feasibility minus publication_id
    lake/ml/machine_failure_risk.parquet                  machine_failure_risk minus publication_id

The schemas are derived from the published contracts so the column types cannot drift from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from data_contracts import load_published_contract
from data_contracts.duckdb_types import arrow_field, arrow_type

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from twin.paths import TwinPaths

# Columns the publication step stamps; the producers of the lake files do not know them yet.
STAMPED_COLUMNS = ("model_version", "publication_id", "published_at")


@dataclass(frozen=True)
class PublishInput:
    """One lake input: where its files live, the zero-row schema file, and its contract."""

    name: str
    folder: str  # relative to the lake root
    schema_file: str  # zero-row file in `folder` so the dbt glob always matches
    contract: str  # published contract the columns come from
    drop: tuple[str, ...]  # contract columns the producer does not write
    extra: tuple[tuple[str, str], ...] = ()  # producer-only columns (name, DuckDB type)


INPUTS: tuple[PublishInput, ...] = (
    PublishInput(
        name="capacity_runs",
        folder="simulation",
        schema_file="_empty.parquet",
        contract="capacity_supply",
        drop=STAMPED_COLUMNS,
        extra=(("run_id", "varchar"), ("simulated_at", "timestamp")),
    ),
    PublishInput(
        name="constraint_map",
        folder="simulation/constraint_map",
        schema_file="_empty.parquet",
        contract="constraint_map",
        drop=("publication_id",),
    ),
    # baseline scenario only (twin.simulation.prediction_effect), one file per scenario like the others
    PublishInput(
        name="prediction_effect",
        folder="simulation/prediction_effect",
        schema_file="_empty.parquet",
        contract="prediction_effect",
        drop=("model_version", "publication_id"),
    ),
    # every scenario of the current demand plan (twin.simulation.feasibility), one file per scenario
    PublishInput(
        name="capacity_feasibility",
        folder="simulation/capacity_feasibility",
        schema_file="_empty.parquet",
        contract="capacity_feasibility",
        drop=("publication_id",),
    ),
    # lake/ml is shared with other ML outputs: the dbt glob is ml/machine_failure_risk*.parquet, so
    # the schema file carries the table's prefix instead of the generic _empty.parquet.
    PublishInput(
        name="machine_failure_risk",
        folder="ml",
        schema_file="machine_failure_risk_empty.parquet",
        contract="machine_failure_risk",
        drop=("publication_id",),
    ),
)


def input_schema(name: str) -> pa.Schema:
    """The exact Parquet schema of lake input ``name`` (see INPUTS)."""
    import pyarrow as pa

    spec = next(i for i in INPUTS if i.name == name)
    columns = load_published_contract(spec.contract)["columns"]
    fields = [arrow_field(column, c) for column, c in columns.items() if column not in spec.drop]
    fields += [pa.field(column, arrow_type(kind), nullable=False) for column, kind in spec.extra]
    return pa.schema(fields)


def write_input(paths: TwinPaths, name: str, frame: pd.DataFrame, file_name: str) -> Path:
    """Write a producer's rows to lake input ``name`` with its contract schema, atomically."""
    import pyarrow as pa

    from twin.files import write_parquet_atomically

    schema = input_schema(name)
    table = pa.Table.from_pandas(frame, preserve_index=False).select(schema.names).cast(schema)
    spec = next(i for i in INPUTS if i.name == name)
    target = paths.lake / spec.folder / file_name
    write_parquet_atomically(table, target)
    return target


def ensure_publish_inputs(paths: TwinPaths) -> list[Path]:
    """Create the input folders and their zero-row schema files (written atomically); idempotent."""
    import pyarrow.parquet as pq

    from twin.files import write_parquet_atomically

    written = []
    for spec in INPUTS:
        folder = paths.lake / spec.folder
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / spec.schema_file
        schema = input_schema(spec.name)
        if target.exists() and pq.read_schema(target).equals(schema):
            continue
        write_parquet_atomically(schema.empty_table(), target)
        written.append(target)
    return written
