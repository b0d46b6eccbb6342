"""What each landing source looks like: columns, logical types, keys and allowed codes (DESIGN §3.3).

One table drives parsing, the row rules, the lake schemas and the contracts, so the sources cannot
drift apart: the four plant sources and the two planning ones (demand plan, assumed capacity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from data_contracts.duckdb_types import arrow_type

Kind = Literal["text", "code", "timestamp", "date", "double", "count"]
# What a reference column must name in the plant model; "resource" is a line or a machine id.
Ref = Literal["tag", "machine", "product", "line", "resource"]

QUALITY_CODES = ("GOOD", "UNCERTAIN", "BAD")
STATE_CODES = ("RUNNING", "IDLE", "SETUP", "PLANNED_DOWNTIME", "UNPLANNED_DOWNTIME", "OFF")
WORK_ORDER_TYPES = ("CORRECTIVE", "PREVENTIVE")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    codes: tuple[str, ...] = ()  # allowed values of a code column (compared upper case)
    ref: Ref | None = None  # must name an id of the plant model (when given, if optional)
    non_negative: bool = False  # a number below zero breaks a rule (counts always do)
    absent_ok: bool = False  # an optional column the file may leave out altogether (read as empty)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # a second row with the same key is a duplicate
    interval: tuple[str, str] | None = None  # (start, end): end must be after start when both exist
    # Rules over several columns, as (SQL condition that breaks it, reason): see twin/ingest/row_rules.py
    # for the aliases they may use (t.<column>, the reference tables).
    rules: tuple[tuple[str, str], ...] = ()

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
    # The S&OP demand plan (DESIGN §3.5): one row per plan version, product and (weekly) bucket,
    # optionally per line; the most recently loaded version is the current plan (dbt staging).
    "demand_plan": SourceSpec(
        "demand_plan",
        (
            Column("plan_version", "text"),
            Column("product_id", "text", ref="product"),
            Column("bucket_start", "date"),
            Column("quantity", "double", non_negative=True),
            Column("line_id", "text", required=False, ref="line", absent_ok=True),
            Column("site_id", "text", required=False, absent_ok=True),
        ),
        key=("plan_version", "product_id", "bucket_start", "line_id"),
        rules=(
            (
                "NOT EXISTS (SELECT 1 FROM ref_line_product lp WHERE lp.product_id = t.product_id)",
                "no line can make product_id",
            ),
            (
                "t.line_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ref_line_product lp "
                "WHERE lp.product_id = t.product_id AND lp.line_id = t.line_id)",
                "line_id cannot make product_id",
            ),
            (
                "t.site_id IS NOT NULL AND t.site_id <> (SELECT site_id FROM ref_site)",
                "site_id is not this plant's site",
            ),
        ),
    ),
    # What the planning system assumes today per resource and bucket (optional, DESIGN §3.5).
    "assumed_capacity": SourceSpec(
        "assumed_capacity",
        (
            Column("resource_id", "text", ref="resource"),
            Column("bucket_start", "date"),
            Column("capacity_units", "double", non_negative=True),
        ),
        key=("resource_id", "bucket_start"),
    ),
}

# The contract type of each kind (data_contracts/ingested/*.yml); its Arrow type is the lake's.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
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
