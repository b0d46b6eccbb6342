"""Exact whole-batch checks on the clean rows (twin/ingest/stats.py): the unique-key check."""

import duckdb
import pytest

from tests.support.batches import NOW


@pytest.mark.parametrize(("proven", "repeated"), [(True, False), (False, False), (False, True)])
def test_exact_unique_key_check_counts_repeats_unless_proven(tmp_path, plant, proven, repeated):
    from twin.ingest.sources import SPECS
    from twin.ingest.stats import clean_stats, exact_checks

    spec = SPECS["historian"]
    rows = [("L1-M01.spindle_temp", 0), ("L1-M01.spindle_temp", 5), ("L1-M01.spindle_vib", 0)]
    if repeated:
        rows.append(("L1-M01.spindle_temp", 5))
    clean = tmp_path / "clean.parquet"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE c AS SELECT tag, TIMESTAMP '2026-03-02 06:00:00' + to_seconds(s) AS ts, "
        "1.0 AS value, 'GOOD' AS quality FROM (VALUES "
        + ", ".join(f"('{t}', {s})" for t, s in rows)
        + ") v(tag, s)"
    )
    con.execute(f"COPY c TO '{clean}' (FORMAT parquet)")
    stats = clean_stats(con, clean, spec)
    stats["keys_proven"] = proven
    exact = exact_checks(con, clean, spec, plant, NOW.replace(tzinfo=None), stats)
    failed = [f for f in exact.failed if f.startswith("exact:unique_key")]
    assert failed == (["exact:unique_key: 1 keys repeated"] if repeated else [])
