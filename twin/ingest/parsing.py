"""Open a landed file in DuckDB as untrusted rows: a relation ``raw`` (rn + the source's columns).

CSV is read with every field as text, so one bad field rejects one row instead of the file; rows the
CSV reader cannot split (missing or extra fields, bad UTF-8, an unterminated quote) land in
``structural_rejects`` with their data-row number. Parquet keeps its own types, which must fit the
contract. A file that cannot be read at all, or whose header or schema is wrong, raises BadFile.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from data_contracts.duckdb_types import FLOAT_TYPES, INTEGER_TYPES, TIMESTAMP_TYPES
from twin.ingest.sources import SourceSpec
from twin.sql import quote_identifier, quote_string

_HEADER_PEEK = 64 * 1024  # a header longer than 64 KiB is not a header of these sources

# DuckDB types a Parquet column may carry for each logical kind; anything else is a schema error.
# Zoned timestamps are accepted: the row rules convert them to naive UTC (twin/ingest/row_rules.py).
_ALLOWED: dict[str, frozenset[str]] = {
    "text": frozenset({"VARCHAR"}),
    "code": frozenset({"VARCHAR"}),
    "timestamp": TIMESTAMP_TYPES | {"VARCHAR"},
    "date": frozenset({"DATE", "VARCHAR"}),
    "double": FLOAT_TYPES | INTEGER_TYPES,
    "count": INTEGER_TYPES,
}
_CSV_ERRORS = {
    "MISSING COLUMNS": "malformed row: missing fields",
    "TOO MANY COLUMNS": "malformed row: too many fields",
    "INVALID ENCODING": "malformed row: not UTF-8",
    "UNQUOTED VALUE": "malformed row: unterminated or stray quote",
    "CAST ERROR": "malformed row: cast error",
    "LINE SIZE OVER MAXIMUM": "malformed row: line too long",
}
TRUNCATED = "truncated: the file's last line has no line end"


class BadFile(Exception):
    """The file cannot be loaded at all; the message is the quarantine reason."""


@dataclass(frozen=True)
class Opened:
    """What parsing found: column types of ``raw`` and how many data rows the file holds."""

    fmt: str  # "csv" or "parquet"
    types: dict[str, str]  # column → DuckDB type of the raw relation
    rows_in: int


def detect_format(path: Path) -> str:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return "parquet"
    if path.suffix.lower() in {".parquet", ".pq"}:
        raise BadFile("not a Parquet file (no PAR1 magic bytes)")
    return "csv"


def open_batch(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceSpec) -> Opened:
    """Create ``raw`` (rn, columns) and ``structural_rejects`` (rn, reason, record) in ``con``."""
    if path.stat().st_size == 0:
        raise BadFile("empty file (0 bytes)")
    fmt = detect_format(path)
    # A file with the right header and no rows is a valid, empty batch: a CMMS export for a day
    # without work orders is exactly that. Only a file with no header at all is unreadable.
    return _open_parquet(con, path, spec) if fmt == "parquet" else _open_csv(con, path, spec)


def _check_columns(found: list[str], spec: SourceSpec, what: str) -> None:
    missing = [c.name for c in spec.columns if c.name not in found and not c.absent_ok]
    extra = [c for c in found if c not in spec.names]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if missing or extra or duplicated:
        parts = [
            f"missing {missing}" if missing else "",
            f"unexpected {extra}" if extra else "",
            f"repeated {duplicated}" if duplicated else "",
        ]
        detail = "; ".join(p for p in parts if p)
        raise BadFile(f"wrong {what}: {detail}; expected columns {list(spec.names)}")


def _read_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(_HEADER_PEEK)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("header is not UTF-8 text") from None
    return [name.strip() for name in next(csv.reader(io.StringIO(text)), [])]


def _open_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceSpec) -> Opened:
    header = _read_header(path)
    _check_columns(header, spec, "header")
    columns = "{" + ", ".join(f"{quote_string(c)}: 'VARCHAR'" for c in header) + "}"
    # Explicit dialect: sniffing 3.6 M rows costs time and can guess wrong on a tiny file.
    reader = (
        f"read_csv({quote_string(path)}, header=true, auto_detect=false, columns={columns}, delim=',', "
        "quote='\"', escape='\"', store_rejects=true, rejects_scan='csv_scan', "
        "rejects_table='csv_errors')"
    )
    try:
        # Materialised once: the rules read it twice (find rejects, then write the clean rows).
        con.execute(
            f"CREATE TEMP TABLE parsed AS SELECT row_number() OVER () AS k, * FROM {reader}"
        )
    except duckdb.Error as exc:
        raise BadFile(f"unreadable CSV: {str(exc).splitlines()[0]}") from None
    # Each unsplittable line is one record in csv_errors (once per missing field): line 1 is the header.
    con.execute(
        f"""CREATE TEMP TABLE structural_rejects AS
        SELECT (line - 1)::BIGINT AS rn,
               CASE {" ".join(f"WHEN min(error_type) = {quote_string(k)} THEN {quote_string(v)}" for k, v in _CSV_ERRORS.items())}
                    ELSE 'malformed row: ' || lower(min(error_type)::VARCHAR) END AS reason,
               to_json({{'line': min(csv_line)}}) AS record
        FROM csv_errors GROUP BY line"""
    )
    # Good rows were numbered among themselves; shift each past the rejected lines before it.
    con.execute(
        """CREATE TEMP TABLE gaps AS
        SELECT rn - row_number() OVER (ORDER BY rn) AS good_before, row_number() OVER (ORDER BY rn) AS skipped
        FROM structural_rejects"""
    )
    select = ", ".join(_column_or_null(c, header, "p.") for c in spec.names)
    if con.execute("SELECT count(*) FROM gaps").fetchall()[0][0] == 0:
        con.execute(f"CREATE TEMP VIEW raw AS SELECT p.k AS rn, {select} FROM parsed p")
    else:
        con.execute(
            f"""CREATE TEMP TABLE raw AS
            SELECT p.k + coalesce(g.skipped, 0) AS rn, {select}
            FROM parsed p ASOF LEFT JOIN
                 (SELECT good_before, max(skipped) AS skipped FROM gaps GROUP BY good_before) g
            ON p.k > g.good_before"""
        )
    rows_in = con.execute(
        "SELECT (SELECT count(*) FROM parsed) + (SELECT count(*) FROM structural_rejects)"
    ).fetchall()[0][0]
    if rows_in and not _ends_with_newline(path):
        # A writer killed mid-row leaves a last line that may still parse (a nullable field cut
        # short); the missing line end is the only trace, so that row is rejected, not trusted.
        con.execute(
            f"""INSERT INTO structural_rejects
            SELECT {rows_in}, {quote_string(TRUNCATED)}, to_json(r) FROM raw r WHERE rn = {rows_in}"""
        )
    return Opened("csv", dict.fromkeys(spec.names, "VARCHAR"), rows_in)


def _column_or_null(name: str, found: list[str] | dict, prefix: str = "") -> str:
    """The column, or an empty text column of that name when the file left it out (absent_ok)."""
    column = quote_identifier(name)
    return f"{prefix}{column}" if name in found else f"NULL::VARCHAR AS {column}"


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _open_parquet(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceSpec) -> Opened:
    reader = f"read_parquet({quote_string(path)}, file_row_number=true)"
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({quote_string(path)})"
        ).fetchall()
        rows_in = con.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata({quote_string(path)})"
        ).fetchall()[0][0]
    except duckdb.Error as exc:
        raise BadFile(f"unreadable Parquet: {str(exc).splitlines()[0]}") from None
    found = {name: str(kind) for name, kind, *_ in described}
    _check_columns(list(found), spec, "Parquet schema")
    types = {c: found.get(c, "VARCHAR") for c in spec.names}
    wrong = [
        f"{c.name} is {types[c.name]}, expected {c.kind}"
        for c in spec.columns
        if types[c.name] not in _ALLOWED[c.kind]
    ]
    if wrong:
        raise BadFile("wrong Parquet types: " + "; ".join(wrong))
    select = ", ".join(_column_or_null(c, found) for c in spec.names)
    con.execute(f"CREATE TEMP VIEW raw AS SELECT file_row_number + 1 AS rn, {select} FROM {reader}")
    con.execute("CREATE TEMP TABLE structural_rejects (rn BIGINT, reason VARCHAR, record VARCHAR)")
    return Opened("parquet", {c: types[c] for c in spec.names}, int(rows_in or 0))
