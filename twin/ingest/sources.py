"""What each landing source looks like: columns, logical types, keys and allowed codes (DESIGN §3.3).

One table drives parsing, the row rules, the lake schemas and the contracts, so the four sources cannot
drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from data_contracts.duckdb_types import arrow_type

Kind = Literal["text", "code", "timestamp", "double", "count"]
Ref = Literal["tag", "machine", "product"]

QUALITY_CODES = ("GOOD", "UNCERTAIN", "BAD")
STATE_CODES = ("RUNNING", "IDLE", "SETUP", "PLANNED_DOWNTIME", "UNPLANNED_DOWNTIME", "OFF")
WORK_ORDER_TYPES = ("CORRECTIVE", "PREVENTIVE")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    codes: tuple[str, ...] = ()  # allowed values of a code column (compared upper case)
    ref: Ref | None = None  # must name an id of the plant model


@dataclass(frozen=True)
class SourceSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # a second row with the same key is a duplicate
    interval: tuple[str, str] | None = None  # (start, end): end must be after start when both exist

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SPECS: dict[str, SourceSpec] = {
    "historian": SourceSpec(
        "historian",
        (
            Column("tag", "text", ref="tag"),
            Column("ts", "timestamp"),
            Column("value", "double"),
            Column("quality", "code", codes=QUALITY_CODES),
        ),
        key=("tag", "ts"),
    ),
    "mes_states": SourceSpec(
        "mes_states",
        (
            Column("machine_id", "text", ref="machine"),
            Column("state", "code", codes=STATE_CODES),
            Column("start_ts", "timestamp"),
            Column("end_ts", "timestamp"),
            Column("reason_code", "text", required=False),
        ),
        key=("machine_id", "start_ts"),
        interval=("start_ts", "end_ts"),
    ),
    "mes_production": SourceSpec(
        "mes_production",
        (
            Column("machine_id", "text", ref="machine"),
            Column("start_ts", "timestamp"),
            Column("end_ts", "timestamp"),
            Column("product_id", "text", ref="product"),
            Column("work_order_id", "text"),
            Column("good_qty", "count"),
            Column("scrap_qty", "count"),
        ),
        key=("machine_id", "start_ts", "product_id"),
        interval=("start_ts", "end_ts"),
    ),
    "cmms": SourceSpec(
        "cmms",
        (
            Column("work_order_id", "text"),
            Column("machine_id", "text", ref="machine"),
            Column("type", "code", codes=WORK_ORDER_TYPES),
            Column("failure_mode", "text", required=False),
            Column("reported_ts", "timestamp"),
            Column("start_ts", "timestamp"),
            # An open repair has no end yet (data_contracts/README.md).
            Column("end_ts", "timestamp", required=False),
        ),
        key=("work_order_id",),
        interval=("start_ts", "end_ts"),
    ),
}

# The contract type of each kind (data_contracts/ingested/*.yml); its Arrow type is the lake's.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "double": "DOUBLE",
    "count": "BIGINT",
}


def lake_schema(source: str) -> pa.Schema:
    """The bronze table schema: the source's typed columns plus lineage (naive-UTC timestamps)."""
    fields = [pa.field(c.name, arrow_type(DUCKDB_TYPES[c.kind])) for c in SPECS[source].columns]
    fields += [pa.field("batch_id", pa.string()), pa.field("loaded_at", pa.timestamp("us"))]
    return pa.schema(fields)


REJECTS_SCHEMA = pa.schema(
    [
        pa.field("batch_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("row_number", pa.int64()),
        pa.field("reason", pa.string()),
        pa.field("record", pa.string()),
    ]
)
