"""Check tables against their published contracts: columns, types, nulls (exact) and values (GX).

A table passes when it has exactly the contract's columns, each column can be represented in the
contract's DuckDB type without loss, required columns hold no nulls, the exact cross-row rules hold
(capacity quantiles ordered, bucket bounds match the grain) and its GX suite passes. No Dagster here:
the Dagster blocking check and ``publication.publish`` both call ``validate_tables``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from data_contracts import PUBLISHED_TABLES, load_published_contract, load_suite
from data_contracts.duckdb_types import (
    FLOAT_TYPES,
    INT64_INTEGER_TYPES,
    INTEGER_TYPES,
    NAIVE_TIMESTAMP_TYPES,
)
from data_contracts.validation import ExactChecks, SuiteOutcome, merge, run_suite
from twin.sql import quote_identifier

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

# DuckDB types a column may arrive in, per contract type. A frame from ``duckdb ... .df()`` turns
# DATE into TIMESTAMP, and pandas may hold integers as floats: both are accepted when the values
# convert without loss (checked on the data, below). Only naive timestamps: the cast below would
# read a zoned one in the session time zone. UBIGINT only where the contract says bigint.
_ACCEPTED: dict[str, frozenset[str]] = {
    "varchar": frozenset({"VARCHAR"}),
    "double": FLOAT_TYPES | INT64_INTEGER_TYPES,
    "integer": INT64_INTEGER_TYPES | FLOAT_TYPES,
    "bigint": INTEGER_TYPES | FLOAT_TYPES,
    "date": NAIVE_TIMESTAMP_TYPES | {"DATE"},
    "timestamp": NAIVE_TIMESTAMP_TYPES,
    "boolean": frozenset({"BOOLEAN"}),
}


@dataclass(frozen=True)
class Stamp:
    """Lineage the publication writes into every row (DESIGN §3.4 lineage columns)."""

    publication_id: str
    published_at: dt.datetime  # naive UTC
    model_version: str


@dataclass(frozen=True)
class TableCheck:
    """The contract outcome of one table."""

    table: str
    contract_version: str
    passed: bool
    rows: int
    evaluated: int
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "contract_version": self.contract_version,
            "passed": self.passed,
            "rows": self.rows,
            "evaluated": self.evaluated,
            "failures": list(self.failures),
        }


class ContractViolation(ValueError):
    """One or more tables break their published contract; nothing was published."""

    def __init__(self, checks: list[TableCheck]) -> None:
        self.checks = checks
        lines = [
            f"{c.table} (contract {c.contract_version}): {failure}"
            for c in checks
            if not c.passed
            for failure in c.failures
        ]
        super().__init__("published-table contract violated:\n  " + "\n  ".join(lines))


def _type_failures(con: duckdb.DuckDBPyConnection, contract: dict[str, Any]) -> list[str]:
    """Missing, unexpected and wrongly typed columns of the registered relation ``incoming``."""
    described = {
        row[0]: row[1] for row in con.execute("describe select * from incoming").fetchall()
    }
    columns = contract["columns"]
    failures = [f"missing column {c}" for c in columns if c not in described]
    failures += [f"unexpected column {c}" for c in described if c not in columns]
    for column, spec in columns.items():
        have, want = described.get(column), spec["type"].lower()
        if have is None or have == '"NULL"':  # all-null column from pandas: any type
            continue
        if have not in _ACCEPTED[want]:
            failures.append(f"column {column}: type {have}, contract says {want}")
            continue
        lossy, col = None, quote_identifier(column)
        if want == "date" and have in NAIVE_TIMESTAMP_TYPES:
            lossy = f"cast(cast({col} as date) as timestamp) != {col}"
        elif want in {"integer", "bigint"} and have in FLOAT_TYPES:
            lossy = f"{col} != round({col})"
        if lossy:
            bad = con.execute(f"select count(*) from incoming where {col} is not null and {lossy}")
            if (n := bad.fetchall()[0][0]) > 0:  # fetchall: fetchone leaves the result open
                failures.append(
                    f"column {column}: {n} values do not convert to {want} without loss"
                )
    return failures


def _conform(
    data: Any, contract: dict[str, Any], stamp: Stamp
) -> tuple[pa.Table | None, list[str]]:
    """The table in contract column order and types with lineage stamped, or the type failures."""
    import duckdb

    con = duckdb.connect()  # in memory: nothing here touches a file
    try:
        con.register("incoming", data)
        failures = _type_failures(con, contract)
        if failures:
            return None, failures
        stamped = {
            "publication_id": "$publication_id",
            "published_at": "$published_at",
            "model_version": "coalesce(model_version, $model_version)",
        }
        expressions = {c: stamped.get(c, quote_identifier(c)) for c in contract["columns"]}
        select = ", ".join(
            f"cast({expressions[c]} as {spec['type']}) as {quote_identifier(c)}"
            for c, spec in contract["columns"].items()
        )
        params = {
            "publication_id": stamp.publication_id,
            "published_at": stamp.published_at,
            "model_version": stamp.model_version,
        }
        used = {k: v for k, v in params.items() if f"${k}" in select}
        table = con.sql(f"select {select} from incoming", params=used).to_arrow_table()
        return table, []
    finally:
        con.close()


def _exact_checks(name: str, table: pa.Table, contract: dict[str, Any]) -> ExactChecks:
    """Rules over whole columns or across rows that GX suites do not express, computed in DuckDB."""
    import duckdb

    exact = ExactChecks()
    if (min_rows := contract.get("min_rows", 0)) > 0:
        exact.check("min_rows", table.num_rows >= min_rows, f"{table.num_rows} rows < {min_rows}")
    for column, spec in contract["columns"].items():
        if spec.get("required"):
            nulls = table[column].null_count
            exact.check(f"not_null({column})", nulls == 0, f"{nulls} nulls")
    con = duckdb.connect()
    try:
        con.register("t", table)
        if "bucket_grain" in contract["columns"]:
            bad = con.execute(
                # bucket_end is exclusive; a week is a Monday-started calendar week, also when
                # the horizon covers only its rest (is_partial says so)
                "select count(*) from t where (bucket_grain = 'day' and bucket_end != bucket_start + 1)"
                " or (bucket_grain = 'week' and (bucket_end != bucket_start + 7"
                " or isodow(bucket_start) != 1))"
            ).fetchone()[0]
            exact.check("bucket_bounds_match_grain", bad == 0, f"{bad} rows")
        if name == "capacity_supply":
            bad = con.execute(
                """
                select count(*) from (
                    select
                        count(*) filter (where quantile = 'p10') as n10,
                        count(*) filter (where quantile = 'p50') as n50,
                        count(*) filter (where quantile = 'p90') as n90,
                        max(available_hours) filter (where quantile = 'p10') as h10,
                        max(available_hours) filter (where quantile = 'p50') as h50,
                        max(available_hours) filter (where quantile = 'p90') as h90,
                        max(capacity_units) filter (where quantile = 'p10') as u10,
                        max(capacity_units) filter (where quantile = 'p50') as u50,
                        max(capacity_units) filter (where quantile = 'p90') as u90,
                    from t
                    group by site_id, resource_level, resource_id, bucket_grain, bucket_start,
                        scenario_id
                )
                where not (n10 = 1 and n50 = 1 and n90 = 1)
                    or not (h10 <= h50 and h50 <= h90 and u10 <= u50 and u50 <= u90)
                """
            ).fetchone()[0]
            exact.check("quantiles_p10_le_p50_le_p90", bad == 0, f"{bad} resource buckets")
    finally:
        con.close()
    return exact


def check_table(name: str, data: Any, stamp: Stamp) -> tuple[pa.Table | None, TableCheck]:
    """Conform and validate one table; the typed, stamped table is None when the check fails."""
    contract = load_published_contract(name)
    version = str(contract["version"])
    rows = len(data)
    table, failures = _conform(data, contract, stamp)
    if table is None:
        return None, TableCheck(name, version, False, rows, len(contract["columns"]), failures)
    outcome = run_suite(table.to_pandas(), load_suite(f"published_{name}"))
    outcome = merge(outcome, _exact_checks(name, table, contract))
    check = _to_check(name, version, rows, outcome)
    return (table if check.passed else None), check


def _to_check(name: str, version: str, rows: int, outcome: SuiteOutcome) -> TableCheck:
    return TableCheck(name, version, outcome.success, rows, outcome.evaluated, list(outcome.failed))


def validate_tables(
    tables: Mapping[str, Any], stamp: Stamp
) -> tuple[dict[str, pa.Table], list[TableCheck]]:
    """Every published table conformed and checked; a missing or unknown table is a failure too."""
    checks, prepared = [], {}
    for name in PUBLISHED_TABLES:
        if name not in tables:
            checks.append(
                TableCheck(name, "-", False, 0, 0, ["table missing from the publication"])
            )
            continue
        table, check = check_table(name, tables[name], stamp)
        checks.append(check)
        if table is not None:
            prepared[name] = table
    for name in sorted(set(tables) - set(PUBLISHED_TABLES)):
        checks.append(TableCheck(name, "-", False, len(tables[name]), 0, ["no published contract"]))
    return prepared, checks


def provisional_stamp(lineage: Mapping[str, Any] | None = None) -> Stamp:
    """Lineage columns for a check before publication: a placeholder id, the model version."""
    return Stamp(
        publication_id="check",
        published_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        model_version=str((lineage or {}).get("model_version") or "unknown"),
    )


def check_tables(
    tables: Mapping[str, Any], lineage: Mapping[str, Any] | None = None
) -> list[TableCheck]:
    """The contract outcome of every table, exactly as ``publish`` would judge it (for a blocking
    asset check that runs before publication). Lineage columns are stamped with a provisional id."""
    return validate_tables(tables, provisional_stamp(lineage))[1]
