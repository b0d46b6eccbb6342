"""The contracts' DuckDB types: the Arrow type each is written as, and the DuckDB types data may arrive in.

The contracts (``ingested/*.yml``, ``published/*.yml``) declare columns as varchar, double, integer,
bigint, date, timestamp or boolean. Parsing a landed file (twin/ingest/parsing.py) and checking a
table before publication (twin/publish/table_checks.py) each decide which DuckDB types they accept
for a column; they build those rules from the sets below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT"})
# Integer types whose every value fits in a BIGINT (int64).
INT64_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
)
INTEGER_TYPES = INT64_INTEGER_TYPES | {"UBIGINT"}
# Timestamps without a zone (the lake and the published tables hold naive UTC).
NAIVE_TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"})
# TIMESTAMP WITH TIME ZONE is accepted only where the code converts it to naive UTC explicitly
# (epoch_us, as the row rules do): a plain cast to TIMESTAMP would use the session time zone.
TIMESTAMP_TYPES = NAIVE_TIMESTAMP_TYPES | {"TIMESTAMP WITH TIME ZONE"}


def arrow_type(duckdb_type: str) -> pa.DataType:
    """The Arrow type a contract's DuckDB type is written as (timestamps naive UTC, microseconds)."""
    import pyarrow as pa

    types = {
        "varchar": pa.string(),
        "double": pa.float64(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "boolean": pa.bool_(),
    }
    return types[duckdb_type.lower()]


def arrow_field(name: str, spec: dict[str, Any]) -> pa.Field:
    """A contract column (``{type, required, ...}``) as an Arrow field; only required means not null."""
    import pyarrow as pa

    return pa.field(name, arrow_type(spec["type"]), nullable=not spec.get("required", False))
