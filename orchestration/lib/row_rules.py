"""The row rules of data_contracts/README.md as DuckDB SQL: type each field and name the first rule a row breaks.

``checked_sql`` turns the raw relation into typed columns plus ``reason`` (NULL for a valid row). It
joins small reference tables built from the plant model (``ref_tag``, ``ref_machine``,
``ref_product``). Duplicates are found separately (``duplicates_sql``) because they need a window over
the whole batch.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.lib.sources import SourceSpec
from twin.plant import Plant

FUTURE_SLACK_MIN = 5  # a timestamp more than 5 minutes past load time is in the future (README)

_KIND_WORDS = {
    "timestamp": "an ISO 8601 timestamp",
    "double": "a number",
    "count": "a whole number",
    "text": "text",
    "code": "text",
}


def register_references(con: duckdb.DuckDBPyConnection, plant: Plant) -> None:
    """Plant ids and tag ranges as tables the rules join against (5,000 tags → 5,000 rows)."""
    tags = pd.DataFrame(
        [(t.tag, m.id, float(t.min), float(t.max)) for m, t in plant.iter_tags()],
        columns=["tag", "machine_id", "lo", "hi"],
    ).astype({"tag": object, "machine_id": object})
    machines = pd.DataFrame({"machine_id": pd.Series([m.id for m in plant.machines], dtype=object)})
    products = pd.DataFrame({"product_id": pd.Series([p.id for p in plant.products], dtype=object)})
    for name, frame in (("ref_tag", tags), ("ref_machine", machines), ("ref_product", products)):
        con.register(f"_{name}", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    return f'"{name}"'


def _typed(name: str, kind: str, raw_type: str) -> str:
    col = f"r.{_q(name)}"
    if raw_type == "VARCHAR":
        text = f"NULLIF(trim({col}), '')"
        return {
            "text": text,
            "code": f"upper({text})",
            # Session TimeZone is UTC: an offset is honoured, a naive timestamp is taken as UTC.
            # make_timestamp(epoch_us(...)) drops the zone arithmetically; a ::TIMESTAMP cast goes
            # through ICU calendars and doubled the CSV parse time (0.55 → 1.09 s for 3.6 M rows).
            "timestamp": f"make_timestamp(epoch_us(try_cast({text} AS TIMESTAMPTZ)))",
            "double": f"try_cast({text} AS DOUBLE)",
            # DuckDB rounds '3.5' to 4 when casting to BIGINT: go through DOUBLE, demand a whole number.
            "count": f"try_cast({text} AS DOUBLE)",
        }[kind]
    if kind == "timestamp":
        if raw_type == "TIMESTAMP WITH TIME ZONE":
            return f"make_timestamp(epoch_us({col}))"
        return f"{col}::TIMESTAMP"  # naive Parquet timestamps are UTC
    if kind in ("double", "count"):
        return f"{col}::DOUBLE"
    return f"upper({col})" if kind == "code" else col


def _raw(name: str) -> str:
    return _q(f"raw__{name}")


def _blank(name: str, raw_type: str) -> str:
    col = f"t.{_raw(name)}"
    return f"({col} IS NULL OR trim({col}) = '')" if raw_type == "VARCHAR" else f"{col} IS NULL"


def checked_sql(spec: SourceSpec, types: dict[str, str], cutoff_sql: str) -> str:
    """SELECT rn, <typed columns>, reason FROM raw (+ reference joins).

    Two levels: the inner SELECT types each field once; the CASE names the first broken rule.
    """
    typed = {c.name: _typed(c.name, c.kind, types[c.name]) for c in spec.columns}
    whens: list[tuple[str, str]] = []
    for c in spec.columns:
        value = f"t.{_q(c.name)}"
        if c.required:
            whens.append((_blank(c.name, types[c.name]), f"missing {c.name}"))
        invalid = f"{value} IS NULL"
        if c.kind == "count":
            invalid = f"({value} IS NULL OR (isfinite({value}) AND {value} <> trunc({value})))"
        whens.append(
            (
                f"NOT {_blank(c.name, types[c.name])} AND {invalid}",
                f"{c.name} is not {_KIND_WORDS[c.kind]}",
            )
        )
    for c in spec.columns:
        value = f"t.{_q(c.name)}"
        if c.codes:
            allowed = ", ".join(f"'{code}'" for code in c.codes)
            whens.append(
                (f"{value} NOT IN ({allowed})", f"{c.name} not one of {'/'.join(c.codes)}")
            )
        if c.kind in ("double", "count"):
            whens.append((f"NOT isfinite({value})", f"{c.name} is not finite (NaN/inf)"))
        if c.kind == "count":
            whens.append((f"{value} < 0", f"{c.name} is negative"))
    joins = []
    for c in spec.columns:
        if c.ref:
            table = f"ref_{c.ref}"
            key = "tag" if c.ref == "tag" else f"{c.ref}_id"
            joins.append(f"LEFT JOIN {table} ON {table}.{key} = t.{_q(c.name)}")
            whens.append((f"{table}.{key} IS NULL", f"unknown {c.name}"))
    for c in spec.columns:
        if c.kind == "timestamp":
            whens.append((f"t.{_q(c.name)} > {cutoff_sql}", f"{c.name} is in the future"))
    if any(c.ref == "tag" for c in spec.columns):
        # Out-of-range readings are rejected, not clipped (README): clipping would invent values.
        whens.append(
            ("t.value < ref_tag.lo OR t.value > ref_tag.hi", "value outside the tag min/max")
        )
    if spec.interval:
        start, end = spec.interval
        whens.append((f"t.{_q(end)} <= t.{_q(start)}", f"{end} is not after {start}"))
    case = "CASE " + " ".join(f"WHEN {w} THEN {_literal(r)}" for w, r in whens) + " END"
    inner = ", ".join(
        [f"{expr} AS {_q(name)}" for name, expr in typed.items()]
        + [f"r.{_q(name)} AS {_raw(name)}" for name in typed]
    )
    # Counts were typed as DOUBLE to catch fractions; rejected rows may hold NaN, hence try_cast.
    outer = ", ".join(
        f"try_cast(t.{_q(c.name)} AS BIGINT) AS {_q(c.name)}"
        if c.kind == "count"
        else f"t.{_q(c.name)}"
        for c in spec.columns
    )
    return (
        f"SELECT t.rn, {outer}, {case} AS reason "
        f"FROM (SELECT r.rn, {inner} FROM raw r) t {' '.join(joins)}"
    )


def duplicates_sql(spec: SourceSpec) -> str:
    """Rows (among the otherwise valid) whose key an earlier valid row already has: rn, first_rn."""
    key = ", ".join(_q(k) for k in spec.key)
    # min(rn) over an unordered partition is a hash partition, no sort: ~9 s for 86.4 M rows here.
    return f"""SELECT rn, first_rn FROM (
        SELECT rn, min(rn) OVER (PARTITION BY {key}) AS first_rn FROM checked WHERE reason IS NULL
    ) WHERE rn > first_rn"""


def duplicate_reason_sql(spec: SourceSpec) -> str:
    """Name each duplicate: an exact copy of an earlier row, or only its key repeated."""
    others = [c for c in spec.names if c not in spec.key]
    same = " AND ".join(f"d.{_q(c)} IS NOT DISTINCT FROM f.{_q(c)}" for c in others) or "true"
    key = ", ".join(spec.key)
    return f"""SELECT x.rn,
        CASE WHEN {same} THEN 'duplicate row (same as row ' || x.first_rn || ')'
             ELSE 'duplicate key ({key}) of row ' || x.first_rn END AS reason
        FROM dups x JOIN checked d ON d.rn = x.rn JOIN checked f ON f.rn = x.first_rn"""
