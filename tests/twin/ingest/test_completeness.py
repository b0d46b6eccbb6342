"""Historian completeness of a loaded batch (twin/ingest/completeness.py): missing and sparse tags."""

from tests.support.batches import land
from tests.support.lake import load_all


def test_completeness_names_missing_and_sparse_tags(paths, plant):
    # L1-M01 has 5 tags (periods 10, 5, 10, 10, 30 s); deliver only spindle_temp for 10 minutes.
    rows = [
        f"L1-M01.spindle_temp,2026-03-02T06:{i // 6:02d}:{i % 6 * 10:02d}Z,20.0,GOOD"
        for i in range(60)
    ]
    land(paths, "historian", "one_tag.csv", "tag,ts,value,quality\n" + "\n".join(rows) + "\n")
    outcome = load_all(paths, plant, completeness_threshold=0.95)["one_tag.csv"]
    result = outcome.completeness
    assert not result.passed
    assert result.tags_checked == 5
    assert result.tags_failing == 4
    missing = {row["tag"]: row for row in result.failing_tags}
    assert "L1-M01.spindle_temp" not in missing
    assert missing["L1-M01.spindle_vib"] == {
        "tag": "L1-M01.spindle_vib",
        "machine_id": "L1-M01",
        "good": 0,
        "expected": 119,
        "completeness": 0.0,
    }
    assert outcome.audit["checks"]["completeness"]["tags_failing"] == 4
    assert outcome.audit["status"] == "loaded"  # completeness is a check on the batch, not a reject
