"""Load one landed batch into the bronze lake: parse, apply the row rules, validate, publish, audit.

Write–audit–publish: clean rows and rejects are written to temporary files, GX validates the clean
rows, and only then are the files renamed into ``lake/``. A file that cannot be read, or whose
contract fails, is quarantined and publishes nothing. All heavy lifting is DuckDB SQL on an
in-memory connection, so a 86.4 M-row day never passes through pandas (bench/ingest.py).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from data_contracts import load_suite, validation
from data_contracts.validation import SuiteOutcome
from twin.ingest import landing
from twin.ingest.audit import read_audit, summarise_reasons, write_audit
from twin.ingest.batch_profile import batch_profile, check_batch_profile
from twin.ingest.completeness import (
    BLOCKING_SHARE_OF_TAGS,
    CompletenessOutcome,
    tag_completeness,
)
from twin.ingest.lake_tables import ensure_lake, rejects_file, table_file
from twin.ingest.landing import LandedBatch
from twin.ingest.parsing import BadFile, open_batch
from twin.ingest.rejects import collect_rejects, flag_rows
from twin.ingest.row_rules import FUTURE_SLACK_MIN, checked_sql, register_references
from twin.ingest.sources import SPECS, SourceSpec
from twin.ingest.stats import clean_stats, exact_checks
from twin.paths import TwinPaths
from twin.plant.model import Plant
from twin.sql import quote_identifier, quote_string

__all__ = ["BatchOutcome", "ensure_lake", "load_batch", "read_audit"]

GX_FULL_ROWS = 250_000  # up to here GX sees every loaded row (~0.3 s); above, a key-hash sample
GX_SAMPLE_ROWS = 20_000  # target sample size: GX cost is mostly per expectation, the sample is
# the scan of the clean file plus a pandas frame: 100,000 rows cost ~0.4 s per hour of data, 20,000 ~0.2 s
# snappy: cheaper to write than zstd (−0.13 CPU-s per 3.6 M rows here); files ~1.5× larger.
CLEAN_PARQUET = "COMPRESSION snappy"
MEMORY_LIMIT = (
    "2GB"  # DuckDB spills to the batch's work folder beyond this; peak RSS target is 4 GB
)


@dataclass(frozen=True)
class BatchOutcome:
    audit: dict
    contract: SuiteOutcome | None
    completeness: CompletenessOutcome | None


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        ":memory:", config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(work)}
    )
    con.execute("SET TimeZone = 'UTC'")  # naive timestamps are UTC; TIMESTAMPTZ → naive UTC
    return con


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def load_batch(
    paths: TwinPaths,
    plant: Plant,
    batch: LandedBatch,
    *,
    completeness_threshold: float = 0.95,
    now: datetime | None = None,
) -> BatchOutcome:
    """Load ``batch`` idempotently; bad input ends in quarantine or rejects, never in an exception."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    loaded_at = now.replace(microsecond=now.microsecond)  # naive UTC, microseconds like the lake
    spec = SPECS[batch.source]
    ensure_lake(paths)
    record: dict = {
        "batch_id": batch.batch_id,
        "source": batch.source,
        "file": batch.file,
        "status": "quarantined",
        "rows_in": 0,
        "rows_loaded": 0,
        "rows_rejected": 0,
        "reason": None,
        "archived_as": str(batch.archived),
        "landed_at": datetime.fromtimestamp(batch.archived.stat().st_mtime, UTC).isoformat(),
        "loaded_at": loaded_at.isoformat(),
        "first_ts": None,
        "last_ts": None,
        "duplicates": landing.duplicates_of(paths, batch.batch_id),
        "checks": {},
    }
    work_root = paths.lake / ".work"
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{batch.batch_id[:12]}-", dir=work_root))
    con = _connect(work)
    try:
        return _load(
            con, work, paths, plant, batch, spec, record, loaded_at, completeness_threshold
        )
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


def _quarantine(paths: TwinPaths, batch: LandedBatch, record: dict, reason: str) -> BatchOutcome:
    for stale in (
        table_file(paths, batch.source, batch.batch_id),
        rejects_file(paths, batch.source, batch.batch_id),
    ):
        stale.unlink(
            missing_ok=True
        )  # a reload that now fails must not leave an earlier load behind
    landing.quarantine(paths, batch, reason)
    record.update(
        status="quarantined", rows_loaded=0, rows_rejected=record["rows_in"], reason=reason
    )
    write_audit(paths, record)
    return BatchOutcome(audit=record, contract=None, completeness=None)


def _load(
    con: duckdb.DuckDBPyConnection,
    work: Path,
    paths: TwinPaths,
    plant: Plant,
    batch: LandedBatch,
    spec: SourceSpec,
    record: dict,
    loaded_at: datetime,
    threshold: float,
) -> BatchOutcome:
    cutoff = loaded_at + timedelta(minutes=FUTURE_SLACK_MIN)
    try:
        opened = open_batch(con, batch.archived, spec)
        record["rows_in"] = opened.rows_in
        register_references(con, plant)
        con.execute(
            f"CREATE TEMP {_checked_kind(opened.fmt)} checked AS "
            f"{checked_sql(spec, opened.types, f'TIMESTAMP {quote_string(cutoff)}')}"
        )
        keys_proven = flag_rows(con, spec)
    except BadFile as exc:
        return _quarantine(paths, batch, record, str(exc))
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        # e.g. a Parquet whose pages are corrupt only shows it when scanned; other DuckDB errors
        # (memory, disk, our own SQL) are infrastructure and propagate.
        return _quarantine(paths, batch, record, f"unreadable file: {str(exc).splitlines()[0]}")

    collect_rejects(con, spec)
    # batch_id is one value on every row: as a one-value ENUM the Parquet writer emits its
    # dictionary page directly instead of hashing 3.6 M copies of a 64-character string (0.3 CPU-s
    # per hour of historian data). The file stores a plain string column, as the lake schema says.
    con.execute(f"CREATE TYPE batch_id AS ENUM ({quote_string(batch.batch_id)})")
    clean = work / "clean.parquet"
    cols = ", ".join(map(quote_identifier, spec.names))
    any_rejected = con.execute("SELECT count(*) FROM rejected").fetchall()[0][0] > 0
    skip = "AND rn NOT IN (SELECT rn FROM rejected)" if any_rejected else ""
    rows_loaded = con.execute(
        f"""COPY (SELECT {cols}, {quote_string(batch.batch_id)}::batch_id AS batch_id, TIMESTAMP {quote_string(loaded_at)} AS loaded_at
            FROM checked WHERE reason IS NULL {skip})
        TO {quote_string(clean)} (FORMAT parquet, {CLEAN_PARQUET})"""
    ).fetchall()[0][0]
    reason_counts = Counter(
        dict(con.execute("SELECT reason, count(*) FROM rejected GROUP BY reason").fetchall())
    )
    rows_rejected = sum(reason_counts.values())
    if rows_loaded + rows_rejected != opened.rows_in:  # our bug, not bad input: stop loudly
        raise RuntimeError(
            f"batch {batch.batch_id}: {opened.rows_in} in ≠ {rows_loaded} loaded + {rows_rejected} rejected"
        )
    record.update(
        rows_loaded=rows_loaded,
        rows_rejected=rows_rejected,
        reason=summarise_reasons(reason_counts),
    )

    if rows_loaded == 0 and rows_rejected > 0:
        return _quarantine(paths, batch, record, f"no valid rows: {record['reason']}")
    profile = check_batch_profile(
        batch_profile(con, spec, plant, batch.file, opened.rows_in, reason_counts), spec.name
    )
    record["checks"]["profile"] = profile.to_dict()
    if not profile.success:
        outcome = _quarantine(
            paths, batch, record, "whole-batch rules failed: " + "; ".join(profile.failed)
        )
        return BatchOutcome(audit=outcome.audit, contract=profile, completeness=None)
    stats = clean_stats(con, clean, spec)
    stats["keys_proven"] = keys_proven
    record.update(first_ts=_iso(stats["first_ts"]), last_ts=_iso(stats["last_ts"]))
    if rows_loaded == 0:
        # GX's max/min expectations fail on an empty column; an empty batch has nothing to break.
        contract = SuiteOutcome(
            success=True,
            evaluated=0,
            failed=[],
            rows_validated=0,
            rows_total=0,
            scope="empty batch: header only, no rows to validate",
        )
    else:
        contract = _validate(con, clean, spec, plant, rows_loaded, cutoff, stats)
    record["checks"]["contract"] = contract.to_dict()
    if not contract.success:
        record["rows_in"] = opened.rows_in
        outcome = _quarantine(
            paths, batch, record, "contract failed: " + "; ".join(contract.failed)
        )
        return BatchOutcome(audit=outcome.audit, contract=contract, completeness=None)

    completeness = None
    if spec.name == "historian":
        completeness = tag_completeness(
            plant, stats["good_by_tag"], stats["first_ts"], stats["last_ts"], threshold
        )
        record["checks"]["completeness"] = completeness.to_dict()
        if completeness.material:
            outcome = _quarantine(
                paths,
                batch,
                record,
                f"incomplete: {completeness.tags_failing} of {completeness.tags_checked} tags "
                f"below {threshold:.0%} of their expected samples (more than "
                f"{BLOCKING_SHARE_OF_TAGS:.0%} of the tags): held out of the KPIs",
            )
            return BatchOutcome(audit=outcome.audit, contract=contract, completeness=completeness)
    _publish(con, work, paths, batch, clean, rows_rejected)
    landing.release_quarantine(paths, batch)
    record["status"] = "partially rejected" if rows_rejected else "loaded"
    write_audit(paths, record)
    return BatchOutcome(audit=record, contract=contract, completeness=completeness)


def _checked_kind(fmt: str) -> str:
    """CSV text is typed once into a table (it is read three times: rejects, duplicates, clean
    rows); Parquet stays a view, because a day of it (86.4 M rows) would not fit the memory limit
    and re-scanning typed Parquet is cheap."""
    return "TABLE" if fmt == "csv" else "VIEW"


def _validate(
    con: duckdb.DuckDBPyConnection,
    clean: Path,
    spec: SourceSpec,
    plant: Plant,
    rows_loaded: int,
    cutoff: datetime,
    stats: dict,
) -> SuiteOutcome:
    """GX on the clean rows (all of them, or a key-hash sample plus exact whole-batch checks)."""
    source = f"read_parquet({quote_string(clean)})"
    sampled = rows_loaded > GX_FULL_ROWS
    where, scope = "", "all rows"
    if sampled:
        # Sampling by a hash of the key keeps every copy of a key together: a duplicate key inside
        # the sample is still seen. Deterministic: the same batch always yields the same sample.
        modulus = math.ceil(rows_loaded / GX_SAMPLE_ROWS)
        key = ", ".join(f"c.{quote_identifier(k)}" for k in spec.key)
        where = f"WHERE hash({key}) % {modulus} = 0"
        scope = (
            f"key-hash sample (hash({', '.join(spec.key)}) % {modulus} = 0) of {rows_loaded} rows, "
            "plus exact whole-batch checks in DuckDB"
        )
    if spec.name == "historian":
        query = f"SELECT c.*, t.lo AS tag_min, t.hi AS tag_max FROM {source} c LEFT JOIN ref_tag t ON t.tag = c.tag {where}"
    else:
        query = f"SELECT c.* FROM {source} c {where}"
    frame = con.execute(query).df()
    parameters = {
        "latest_allowed_ts": cutoff,
        "machine_ids": [m.id for m in plant.machines],
        "product_ids": [p.id for p in plant.products],
        "line_ids": [line.id for line in plant.lines],
        "resource_ids": [line.id for line in plant.lines] + [m.id for m in plant.machines],
    }
    outcome = validation.run_suite(
        frame, load_suite(spec.name), parameters=parameters, rows_total=rows_loaded, scope=scope
    )
    if sampled:
        outcome = validation.merge(outcome, exact_checks(con, clean, spec, plant, cutoff, stats))
    return outcome


def _publish(
    con: duckdb.DuckDBPyConnection,
    work: Path,
    paths: TwinPaths,
    batch: LandedBatch,
    clean: Path,
    rows_rejected: int,
) -> None:
    """Rename the validated files into the lake (same file system: atomic, readers see old or new)."""
    target = table_file(paths, batch.source, batch.batch_id)
    reject_target = rejects_file(paths, batch.source, batch.batch_id)
    if rows_rejected:
        staged = work / "rejects.parquet"
        con.execute(
            f"""COPY (SELECT {quote_string(batch.batch_id)} AS batch_id, {quote_string(batch.source)} AS source,
                       rn::BIGINT AS row_number, reason, record::VARCHAR AS record
                FROM rejected ORDER BY rn) TO {quote_string(staged)} (FORMAT parquet)"""
        )
        reject_target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, reject_target)
    else:
        reject_target.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(clean, target)
