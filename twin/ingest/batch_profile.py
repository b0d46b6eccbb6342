"""Whole-batch rules no single row can break: shares over the batch, judged by a GX suite.

The row rules (row_rules.py) reject a reading outside its tag's range, a repeated key, a row in the
future; each row is judged alone, so the rows GX then sees are clean by construction. What a row
rule cannot see is how much of a batch is bad: a sensor re-scaled to other units puts most of its
readings out of range, an export run twice doubles a file, a file named for one day carries
another, a counter interval booked twice counts its parts twice. ``batch_profile`` measures those
shares in DuckDB over the whole typed batch (rejected rows included) as one row, and
``data_contracts/expectations/<source>_profile.json`` sets the limits (data, not code). A batch
over a limit fails its contract and is quarantined with the expectation named.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import duckdb
import pandas as pd

from data_contracts import load_suite
from data_contracts.validation import SuiteOutcome, run_suite
from twin.ingest.sources import SourceSpec
from twin.plant.calendar import day_window
from twin.plant.model import Plant
from twin.sql import quote_identifier, quote_string

# A file names the site-local day it carries as YYYY-MM-DD anywhere in its name
# (historian_2026-11-03.parquet, mes_states_2026-11-03_late.csv): the exports the twin knows do.
DECLARED_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
# Readings this close outside the declared day are clock skew between historian and export job.
DAY_SLACK = dt.timedelta(minutes=5)
OUT_OF_RANGE = "value outside the tag min/max"
PROFILE_COLUMNS = (
    "rows_in",
    "out_of_range_share",
    "duplicate_share",
    "outside_declared_day_share",
    "overlapping_interval_share",
)


def declared_day(file_name: str) -> dt.date | None:
    """The day a file's name declares, or None (a name without a date declares nothing)."""
    match = DECLARED_DAY.search(file_name)
    if match is None:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def _share(part: int | float | None, whole: int) -> float | None:
    return None if not whole or part is None else float(part) / whole


def _outside_declared_day(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, plant: Plant, day: dt.date
) -> float | None:
    """Share of typed rows whose time does not touch the declared day (intervals may cross it)."""
    window = day_window(plant, day)
    lo = quote_string(window.start - DAY_SLACK)
    hi = quote_string(window.end + DAY_SLACK)
    if spec.interval:
        start, end = (quote_identifier(c) for c in spec.interval)
        outside = f"{end} < TIMESTAMP {lo} OR {start} > TIMESTAMP {hi}"
        present = f"{start} IS NOT NULL AND {end} IS NOT NULL"
    elif "ts" in spec.names:
        outside = f"ts < TIMESTAMP {lo} OR ts > TIMESTAMP {hi}"
        present = "ts IS NOT NULL"
    else:
        return None  # work orders are reported whenever the CMMS export runs
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {outside}), count(*) FROM checked WHERE {present}"
    ).fetchone()
    return _share(row[0], row[1])


def _overlapping_intervals(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> float | None:
    """Share of clean production intervals that start before the machine's previous one ended:
    parts counted twice (the same interval booked again with other ids)."""
    if spec.name != "mes_production":
        return None
    row = con.execute(
        """
        WITH clean AS (
            SELECT machine_id, start_ts, end_ts FROM checked
            WHERE reason IS NULL AND rn NOT IN (SELECT rn FROM rejected)
        ), ordered AS (
            SELECT start_ts < max(end_ts) OVER (
                PARTITION BY machine_id ORDER BY start_ts, end_ts
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS is_overlap
            FROM clean
        )
        SELECT count(*) FILTER (WHERE is_overlap), count(*) FROM ordered
        """
    ).fetchone()
    return _share(row[0], row[1])


def batch_profile(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    plant: Plant,
    file_name: str,
    rows_in: int,
    reason_counts: Counter[str],
) -> pd.DataFrame:
    """One row of shares over the batch (None where a rule does not apply to the source)."""
    duplicates = sum(n for reason, n in reason_counts.items() if reason.startswith("duplicate"))
    day = declared_day(file_name)
    profile = {
        "rows_in": rows_in,
        "out_of_range_share": _share(reason_counts.get(OUT_OF_RANGE, 0), rows_in)
        if "tag" in spec.names
        else None,
        "duplicate_share": _share(duplicates, rows_in),
        "outside_declared_day_share": None
        if day is None
        else _outside_declared_day(con, spec, plant, day),
        "overlapping_interval_share": _overlapping_intervals(con, spec),
    }
    return pd.DataFrame([profile], columns=list(PROFILE_COLUMNS)).astype(
        {c: "float64" for c in PROFILE_COLUMNS[1:]}
    )


def check_batch_profile(profile: pd.DataFrame, source: str) -> SuiteOutcome:
    """A batch profile against ``<source>_profile.json`` (GX on the one-row frame)."""
    return run_suite(
        profile,
        load_suite(f"{source}_profile"),
        scope="whole-batch shares, rejected rows included",
    )
