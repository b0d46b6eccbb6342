"""Historian completeness of a loaded batch (twin/ingest/completeness.py): missing and sparse tags."""

from datetime import datetime, timedelta

from tests.support.batches import land
from tests.support.lake import load_all

T0 = datetime(2026, 3, 2, 6, 0)


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
    # 4 of 5 tags short is a material part of the batch missing: held out of the lake (and so of
    # the KPIs), with the reason on the audit record and the file in quarantine
    assert result.material
    assert outcome.audit["status"] == "quarantined"
    assert outcome.audit["reason"].startswith("incomplete: 4 of 5 tags below 95%")
    batch_id = outcome.audit["batch_id"]
    assert not (paths.lake / "historian" / f"{batch_id}.parquet").exists()
    assert list((paths.quarantine / "historian").glob("*one_tag.csv*"))


def _ten_minutes(tag, *, skip: bool = False) -> list[str]:
    if skip:
        return []
    count = int(600 // tag.period_s) + 1
    return [
        f"{tag.tag},{(T0 + timedelta(seconds=tag.period_s * i)).isoformat()}Z,"
        f"{(tag.min + tag.max) / 2},GOOD"
        for i in range(count)
    ]


def test_an_isolated_gap_warns_and_the_batch_still_loads(paths, plant):
    """One sparse tag among many is routine: the check fails (a warning), the rows load."""
    tags = [t for m in plant.lines[0].machines[:3] for t in m.tags]
    assert len(tags) > 10  # one failing tag is then less than the 10 % that holds a batch
    rows = [row for i, tag in enumerate(tags) for row in _ten_minutes(tag, skip=i == 1)]
    land(paths, "historian", "gap.csv", "tag,ts,value,quality\n" + "\n".join(rows) + "\n")
    outcome = load_all(paths, plant, completeness_threshold=0.95)["gap.csv"]
    result = outcome.completeness
    assert not result.passed
    assert result.tags_failing == 1
    assert not result.material
    assert outcome.audit["status"] == "loaded"
    assert (paths.lake / "historian" / f"{outcome.audit['batch_id']}.parquet").exists()
