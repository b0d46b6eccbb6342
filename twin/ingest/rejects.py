"""Which rows of a batch are rejected, and why: rule breaks, duplicate keys, structural rejects.

``flag_rows`` builds ``flagged`` (rn, reason, first_rn) and ``collect_rejects`` turns it into
``rejected`` (rn, reason, record). Duplicates are valid rows repeating the key of an earlier valid
row (data_contracts/README.md). Two ways to find them, same answer:

* general: ``GROUP BY key HAVING count(*) > 1`` over the valid rows, with every plant-model id in the
  key replaced by its integer number (``_idx_<column>``) — integers hash and compare faster than
  strings, and the hash table of a 86.4 M-row day is half the size;
* ordered proof (historian-shaped keys: a reference id then a timestamp): one streaming pass over
  the valid rows' (id number, epoch µs), cut into runs of one id with strictly increasing
  timestamps. If no two runs of the same id overlap in time, no two valid rows share a key, and the
  aggregate is skipped. Historians export ordered by tag then time, so this is the common case. Any other
  order, or any repeated key, falls back to the general path (which then names each duplicate).
"""

from __future__ import annotations

import duckdb
import numpy as np

from twin.ingest.row_rules import idx_column
from twin.ingest.sources import SourceSpec
from twin.sql import quote_identifier

STREAM_ROWS = 1 << 20  # rows per Arrow batch of the ordered pass (~20 MB: rn, id, timestamp)
MIN_RUN_LENGTH = 4  # give up on the proof when runs average fewer rows than this...
MIN_RUNS_CAP = 10_000  # ...and there are more runs than this (small files always try)


def key_sql(spec: SourceSpec, alias: str = "") -> list[str]:
    """Key columns of ``checked`` to group by: reference ids as their integer number."""
    prefix = f"{alias}." if alias else ""
    return [prefix + quote_identifier(idx_column(k) if spec.column(k).ref else k) for k in spec.key]


def ordered_key(spec: SourceSpec) -> bool:
    """Keys the ordered proof applies to: (reference id, timestamp), like historian (tag, ts)."""
    if len(spec.key) != 2:
        return False
    group, order = (spec.column(k) for k in spec.key)
    return group.ref is not None and order.kind == "timestamp"


def keys_unique_in_order(con: duckdb.DuckDBPyConnection, spec: SourceSpec, where: str) -> bool:
    """True when the valid rows' order proves that no key repeats (see module docstring).

    Each streamed chunk is cut into runs of one id with strictly increasing timestamps; then, per
    id, the runs' [first, last] timestamp spans must not overlap (a repeated key always lands in
    two runs whose spans share that timestamp). That holds in any chunk order
    (DuckDB streams chunks in parallel, out of order), so the proof is sound whatever order the
    rows arrive in; it only *succeeds* when runs are long, i.e. the file is ordered by id then
    time. False means "not proven" (short runs, overlapping spans, or a repeated key), never
    "duplicates found".
    """
    group, order = key_sql(spec)
    reader = con.sql(
        f"SELECT rn, {group}, epoch_us({order}) FROM checked WHERE reason IS NULL {where}"
    ).to_arrow_reader(STREAM_ROWS)
    run_ids, run_first, run_last = [], [], []
    rows = runs = 0
    try:
        for chunk in reader:
            n = chunk.num_rows
            if not n:
                continue
            rn = chunk.column(0).to_numpy(zero_copy_only=False)
            ids = chunk.column(1).to_numpy(zero_copy_only=False)
            ts = chunk.column(2).to_numpy(zero_copy_only=False)
            # A run ends where the id changes, time stops increasing, or the row numbers jump:
            # parallel streaming splices pieces of the file in any order inside one Arrow batch,
            # and a run glued across such a seam would span time it does not hold.
            breaks = (ids[1:] != ids[:-1]) | (ts[1:] <= ts[:-1]) | (rn[1:] != rn[:-1] + 1)
            starts = np.concatenate(([0], np.flatnonzero(breaks) + 1))
            ends = np.concatenate((starts[1:] - 1, [n - 1]))
            rows, runs = rows + n, runs + len(starts)
            if runs > max(MIN_RUNS_CAP, rows // MIN_RUN_LENGTH):
                return False  # not ordered by key: the general path is cheaper
            run_ids.append(ids[starts])
            run_first.append(ts[starts])
            run_last.append(ts[ends])
    finally:
        reader.close()
    if not runs:
        return True
    ids, first, last = (np.concatenate(x) for x in (run_ids, run_first, run_last))
    by_key = np.lexsort((first, ids))
    ids, first, last = ids[by_key], first[by_key], last[by_key]
    return not np.any((ids[1:] == ids[:-1]) & (first[1:] <= last[:-1]))


def flag_rows(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, *, ordered_proof: bool = True
) -> bool:
    """``flagged`` (rn, reason, first_rn): rows breaking a rule, and valid rows repeating a valid key.

    Duplicates come from a GROUP BY over the key (HAVING count > 1), then a join with the few
    duplicate keys: 0.7 s for 3.6 M rows here, against 2.2 s for a min(rn) window partitioned by
    key. ``ordered_proof=False`` forces that general path (tests compare both). Returns whether
    the ordered proof showed every valid key unique (then no aggregate ran).
    """
    excluded = ""
    if con.execute("SELECT count(*) FROM structural_rejects").fetchall()[0][0]:
        excluded = "AND rn NOT IN (SELECT rn FROM structural_rejects)"
    con.execute(
        "CREATE TEMP TABLE flagged AS SELECT rn, reason, NULL::BIGINT AS first_rn "
        f"FROM checked WHERE reason IS NOT NULL {excluded}"
    )
    if ordered_proof and ordered_key(spec) and keys_unique_in_order(con, spec, excluded):
        return True
    key = ", ".join(key_sql(spec))
    con.execute(
        f"""CREATE TEMP TABLE dupkeys AS SELECT {key}, min(rn) AS first_rn FROM checked
        WHERE reason IS NULL {excluded} GROUP BY {key} HAVING count(*) > 1"""
    )
    if con.execute("SELECT count(*) FROM dupkeys").fetchall()[0][0]:
        same_key = " AND ".join(
            f"{c} = {d}" for c, d in zip(key_sql(spec, "c"), key_sql(spec, "d"), strict=True)
        )
        con.execute(
            f"""INSERT INTO flagged SELECT c.rn, NULL, d.first_rn FROM checked c JOIN dupkeys d ON {same_key}
            WHERE c.reason IS NULL AND c.rn > d.first_rn {excluded.replace("rn NOT", "c.rn NOT")}"""
        )
    return False


def collect_rejects(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    """``rejected`` (rn, reason, record): structural, rule and duplicate rejects, one row each."""
    others = [c for c in spec.names if c not in spec.key]
    same = (
        " AND ".join(f"d.{c} IS NOT DISTINCT FROM f.{c}" for c in map(quote_identifier, others))
        or "true"
    )
    raw_cols = ", ".join(f"{c} := r.{c}" for c in map(quote_identifier, spec.names))
    con.execute(
        """CREATE TEMP TABLE rejected AS
        SELECT rn, reason, record FROM structural_rejects
        UNION ALL
        SELECT x.rn, x.reason, NULL FROM flagged x WHERE x.reason IS NOT NULL"""
    )
    if con.execute("SELECT count(*) FROM flagged WHERE reason IS NULL").fetchall()[0][0]:
        con.execute(
            f"""INSERT INTO rejected
            SELECT x.rn, CASE WHEN {same} THEN 'duplicate row (same as row ' || x.first_rn || ')'
                              ELSE 'duplicate key ({", ".join(spec.key)}) of row ' || x.first_rn END, NULL
            FROM flagged x JOIN checked d ON d.rn = x.rn JOIN checked f ON f.rn = x.first_rn
            WHERE x.reason IS NULL"""
        )
    if con.execute("SELECT count(*) FROM rejected WHERE record IS NULL").fetchall()[0][0]:
        con.execute(
            f"""UPDATE rejected SET record = j.record FROM
                (SELECT r.rn, to_json(struct_pack({raw_cols})) AS record FROM raw r
                 WHERE r.rn IN (SELECT rn FROM rejected WHERE record IS NULL)) j
            WHERE rejected.rn = j.rn AND rejected.record IS NULL"""
        )
