"""The row rules of data_contracts/README.md as DuckDB SQL: type each field and name the first rule a row breaks.

``checked_sql`` turns the raw relation into typed columns plus ``reason`` (NULL for a valid row). It
joins small reference tables built from the plant model (``ref_tag``, ``ref_machine``,
``ref_product``, ``ref_line``, ``ref_resource``; a source's own rules may also read
``ref_line_product`` and ``ref_site``); each reference table numbers its ids (``idx``), and ``checked`` carries that number
for every reference column (``_idx_<column>``) so that duplicate keys are grouped by integers, not
strings. Duplicates are found separately (twin/ingest/rejects.py): they need the whole
batch.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from twin.ingest.sources import SourceSpec
from twin.plant.model import Plant
from twin.sql import quote_identifier, quote_string

FUTURE_SLACK_MIN = 5  # a timestamp more than 5 minutes past load time is in the future (README)

_KIND_WORDS = {
    "timestamp": "an ISO 8601 timestamp",
    "date": "a date (YYYY-MM-DD)",
    "double": "a number",
    "count": "a whole number",
    "text": "text",
    "code": "text",
}


def register_references(con: duckdb.DuckDBPyConnection, plant: Plant) -> None:
    """Plant ids and tag ranges as tables the rules join against (5,000 tags → 5,000 rows).

    ``ref_line_product`` lists the products each line can make (every machine of the line has a
    cycle time for it, as the simulation assumes); ``ref_site`` holds the plant's site id.
    """
    tags = pd.DataFrame(
        [
            (i, t.tag, m.id, float(t.min), float(t.max))
            for i, (m, t) in enumerate(plant.iter_tags())
        ],
        columns=["idx", "tag", "machine_id", "lo", "hi"],
    ).astype({"idx": "int32", "tag": object, "machine_id": object})

    def ids(column: str, values: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame({column: pd.Series(values, dtype=object)})
        frame.insert(0, "idx", pd.Series(range(len(frame)), dtype="int32"))
        return frame

    lines = [line.id for line in plant.lines]
    makes = [
        (line.id, p)
        for line in plant.lines
        for p in sorted(set.intersection(*(set(m.ideal_cycle_time_s) for m in line.machines)))
    ]
    tables = {
        "ref_tag": tags,
        "ref_machine": ids("machine_id", [m.id for m in plant.machines]),
        "ref_product": ids("product_id", [p.id for p in plant.products]),
        "ref_line": ids("line_id", lines),
        "ref_resource": ids("resource_id", lines + [m.id for m in plant.machines]),
        "ref_line_product": pd.DataFrame(makes, columns=["line_id", "product_id"], dtype=object),
        "ref_site": pd.DataFrame({"site_id": pd.Series([plant.site.id], dtype=object)}),
    }
    for name, frame in tables.items():
        con.register(f"_{name}", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")


def _typed(name: str, kind: str, raw_type: str) -> str:
    col = f"r.{quote_identifier(name)}"
    if raw_type == "VARCHAR":
        text = col  # already NULLIF(trim(field), ''): see _trimmed
        return {
            "text": text,
            "code": f"upper({text})",
            # Session TimeZone is UTC: an offset is honoured, a naive timestamp is taken as UTC.
            # make_timestamp(epoch_us(...)) drops the zone arithmetically; a ::TIMESTAMP cast goes
            # through ICU calendars and doubled the CSV parse time (0.55 → 1.09 s for 3.6 M rows).
            "timestamp": f"make_timestamp(epoch_us(try_cast({text} AS TIMESTAMPTZ)))",
            # a plain date only: '2026-12-07 10:00' is not a bucket start
            "date": f"CASE WHEN length({text}) = 10 THEN try_cast({text} AS DATE) END",
            "double": f"try_cast({text} AS DOUBLE)",
            # DuckDB rounds '3.5' to 4 when casting to BIGINT: go through DOUBLE, demand a whole number.
            "count": f"try_cast({text} AS DOUBLE)",
        }[kind]
    if kind == "timestamp":
        if raw_type == "TIMESTAMP WITH TIME ZONE":
            return f"make_timestamp(epoch_us({col}))"
        return f"{col}::TIMESTAMP"  # naive Parquet timestamps are UTC
    if kind == "date":
        return f"{col}::DATE"  # a Parquet DATE (a timestamp column is refused by the parser)
    if kind in ("double", "count"):
        return f"{col}::DOUBLE"
    return f"upper({col})" if kind == "code" else col


def idx_column(name: str) -> str:
    """The column of ``checked`` holding the plant-model number of reference column ``name``."""
    return f"_idx_{name}"


def _raw(name: str) -> str:
    return quote_identifier(f"raw__{name}")


def _blank(name: str) -> str:
    """A missing field: NULL, or (text) only blanks, since text arrives as NULLIF(trim(x), '')."""
    return f"t.{_raw(name)} IS NULL"


def _trimmed(name: str, raw_type: str) -> str:
    """Each text field is trimmed once, here: trim() costs ~0.2 s per 3.6 M strings, and the rules
    used to call it up to three times per field (typing, 'missing', 'not typed')."""
    col = f"x.{quote_identifier(name)}"
    return f"NULLIF(trim({col}), '') AS {quote_identifier(name)}" if raw_type == "VARCHAR" else col


def checked_sql(spec: SourceSpec, types: dict[str, str], cutoff_sql: str) -> str:
    """SELECT rn, <typed columns>, reason FROM raw (+ reference joins).

    Three levels: text fields are trimmed once, the middle SELECT types each field once, and the
    CASE names the first broken rule.
    """
    typed = {c.name: _typed(c.name, c.kind, types[c.name]) for c in spec.columns}
    whens: list[tuple[str, str]] = []
    for c in spec.columns:
        value = f"t.{quote_identifier(c.name)}"
        if c.required:
            whens.append((_blank(c.name), f"missing {c.name}"))
        invalid = f"{value} IS NULL"
        if c.kind == "count":
            invalid = f"({value} IS NULL OR (isfinite({value}) AND {value} <> trunc({value})))"
        whens.append(
            (
                f"NOT {_blank(c.name)} AND {invalid}",
                f"{c.name} is not {_KIND_WORDS[c.kind]}",
            )
        )
    for c in spec.columns:
        value = f"t.{quote_identifier(c.name)}"
        if c.codes:
            allowed = ", ".join(map(quote_string, c.codes))
            whens.append(
                (f"{value} NOT IN ({allowed})", f"{c.name} not one of {'/'.join(c.codes)}")
            )
        if c.kind in ("double", "count"):
            whens.append((f"NOT isfinite({value})", f"{c.name} is not finite (NaN/inf)"))
        if c.kind == "count" or c.non_negative:
            whens.append((f"{value} < 0", f"{c.name} is negative"))
    joins, ids = [], []
    for c in spec.columns:
        if c.ref:
            table = f"ref_{c.ref}"
            key = "tag" if c.ref == "tag" else f"{c.ref}_id"
            value = f"t.{quote_identifier(c.name)}"
            joins.append(f"LEFT JOIN {table} ON {table}.{key} = {value}")
            ids.append(f"{table}.idx AS {quote_identifier(idx_column(c.name))}")
            # an optional reference left empty names nothing (its 'missing' rule is not there)
            given = "" if c.required else f"{value} IS NOT NULL AND "
            whens.append((f"{given}{table}.{key} IS NULL", f"unknown {c.name}"))
    for c in spec.columns:
        if c.kind == "timestamp":
            whens.append(
                (f"t.{quote_identifier(c.name)} > {cutoff_sql}", f"{c.name} is in the future")
            )
    if any(c.ref == "tag" for c in spec.columns):
        # Out-of-range readings are rejected, not clipped (README): clipping would invent values.
        whens.append(
            ("t.value < ref_tag.lo OR t.value > ref_tag.hi", "value outside the tag min/max")
        )
    whens += list(spec.rules)
    if spec.interval:
        start, end = spec.interval
        whens.append(
            (
                f"t.{quote_identifier(end)} <= t.{quote_identifier(start)}",
                f"{end} is not after {start}",
            )
        )
    case = "CASE " + " ".join(f"WHEN {w} THEN {quote_string(r)}" for w, r in whens) + " END"
    inner = ", ".join(
        [f"{expr} AS {quote_identifier(name)}" for name, expr in typed.items()]
        + [f"r.{quote_identifier(name)} AS {_raw(name)}" for name in typed]
    )
    # Counts were typed as DOUBLE to catch fractions; rejected rows may hold NaN, hence try_cast.
    outer = ", ".join(
        f"try_cast(t.{quote_identifier(c.name)} AS BIGINT) AS {quote_identifier(c.name)}"
        if c.kind == "count"
        else f"t.{quote_identifier(c.name)}"
        for c in spec.columns
    )
    outer = ", ".join([outer, *ids])
    trimmed = ", ".join(_trimmed(c.name, types[c.name]) for c in spec.columns)
    return (
        f"SELECT t.rn, {outer}, {case} AS reason "
        f"FROM (SELECT r.rn, {inner} FROM (SELECT x.rn, {trimmed} FROM raw x) r) t {' '.join(joins)}"
    )
