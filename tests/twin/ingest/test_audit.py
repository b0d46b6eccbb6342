"""Audit records (twin/ingest/audit.py): their keys, the stored JSON, reject reasons, duplicate drops."""

import json

from tests.support.batches import NOW, land, make_cmms_batch, make_mes_production_batch
from tests.support.lake import load_all
from twin.ingest import batch_load, landing


def test_duplicate_drop_is_listed_on_the_audit_record(paths, plant):
    content = make_cmms_batch()
    land(paths, "cmms", "wo.csv", content)
    (batch,) = landing.claim_landed_files(paths)
    land(paths, "cmms", "wo-again.csv", content)
    assert landing.claim_landed_files(paths) == []
    audit = batch_load.load_batch(paths, plant, batch, now=NOW).audit
    assert [d["file"] for d in audit["duplicates"]] == ["wo-again.csv"]


def test_audit_record_keys(paths, plant):
    land(
        paths,
        "mes_production",
        "p.csv",
        make_mes_production_batch(defects=("negative_qty", "fractional_qty")),
    )
    audit = load_all(paths, plant)["p.csv"].audit
    assert list(audit) == [
        "batch_id",
        "source",
        "file",
        "status",
        "rows_in",
        "rows_loaded",
        "rows_rejected",
        "reason",
        "archived_as",
        "landed_at",
        "loaded_at",
        "first_ts",
        "last_ts",
        "duplicates",
        "checks",
    ]
    stored = json.loads((paths.lake / "batches" / f"{audit['batch_id']}.json").read_text())
    assert stored == json.loads(json.dumps(audit, default=str))
    assert stored["reason"] == "1 × good_qty is negative; 1 × scrap_qty is not a whole number"
    assert stored["checks"]["contract"]["success"] is True
    assert batch_load.read_audit(paths) == [stored]
