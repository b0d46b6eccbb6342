"""Whole-batch facts about the clean rows: time span, per-tag stats, and the exact checks.

When GX sees only a sample (twin/ingest/batch_load.py), these exact checks cover every loaded row:
no future timestamps; for historian every tag known, per-tag min/max within the tag range, no nulls;
and every key once.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from data_contracts import validation
from twin.ingest.sources import SourceSpec
from twin.plant.model import Plant
from twin.sql import quote_identifier, quote_string


def clean_stats(con: duckdb.DuckDBPyConnection, clean: Path, spec: SourceSpec) -> dict:
    """Time span of the loaded rows and, for historian, per-tag counts and ranges (one scan)."""
    ts_cols = [quote_identifier(c.name) for c in spec.columns if c.kind == "timestamp"]
    first = "least(" + ", ".join(f"min({c})" for c in ts_cols) + ")"
    last = "greatest(" + ", ".join(f"max({c})" for c in ts_cols) + ")"
    stats: dict = {}
    if spec.name == "historian":
        rows = con.execute(
            f"""SELECT tag, count(*) FILTER (WHERE quality = 'GOOD'), min(value), max(value), min(ts), max(ts),
                       count(*) FILTER (WHERE ts IS NULL OR value IS NULL OR quality IS NULL)
                FROM read_parquet({quote_string(clean)}) GROUP BY tag"""
        ).fetchall()
        stats["per_tag"] = rows
        stats["good_by_tag"] = {r[0]: r[1] for r in rows}
        stats["first_ts"] = min((r[4] for r in rows), default=None)
        stats["last_ts"] = max((r[5] for r in rows), default=None)
    elif ts_cols:
        stats["first_ts"], stats["last_ts"] = con.execute(
            f"SELECT {first}, {last} FROM read_parquet({quote_string(clean)})"
        ).fetchall()[0]
    else:  # a plan's bucket dates lie ahead by nature: no time span to check against the clock
        stats["first_ts"] = stats["last_ts"] = None
    return stats


def exact_checks(
    con: duckdb.DuckDBPyConnection,
    clean: Path,
    spec: SourceSpec,
    plant: Plant,
    cutoff: datetime,
    stats: dict,
) -> validation.ExactChecks:
    """What GX checks on the sample, re-checked on every loaded row from aggregates (cheap scans)."""
    exact = validation.ExactChecks()
    exact.check(
        "not_in_future",
        stats["last_ts"] is None or stats["last_ts"] <= cutoff,
        str(stats["last_ts"]),
    )
    if spec.name == "historian":
        ranges = {t.tag: (t.min, t.max) for _, t in plant.iter_tags()}
        per_tag = stats["per_tag"]
        unknown = [r[0] for r in per_tag if r[0] not in ranges]
        exact.check("known_tags", not unknown, f"{len(unknown)} unknown, e.g. {unknown[:3]}")
        outside = [
            r[0]
            for r in per_tag
            if r[0] in ranges and (r[2] < ranges[r[0]][0] or r[3] > ranges[r[0]][1])
        ]
        exact.check(
            "value_within_tag_range", not outside, f"{len(outside)} tags, e.g. {outside[:3]}"
        )
        nulls = sum(r[6] for r in per_tag)
        exact.check("no_nulls", nulls == 0, f"{nulls} rows")
    # Every key once. Proven on every loaded row by the ordered pass when the file is ordered by
    # key (bronze_rejects); otherwise counted here over the whole clean file.
    repeated = 0
    if not stats.get("keys_proven"):
        key = ", ".join(map(quote_identifier, spec.key))
        repeated = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM read_parquet({quote_string(clean)}) "
            f"GROUP BY {key} HAVING count(*) > 1)"
        ).fetchall()[0][0]
    exact.check("unique_key", repeated == 0, f"{repeated} keys repeated")
    return exact
