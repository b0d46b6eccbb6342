"""A burst's batches loaded side by side in worker processes give what one-by-one loading gives."""

from tests.support.batches import land, make_cmms_batch, make_historian_batch, make_mes_states_batch
from twin.ingest import landing
from twin.ingest.audit import read_audit
from twin.ingest.parallel_load import load_batches, workers_for


def test_batches_load_in_worker_processes_in_order_with_their_own_outcomes(paths, plant):
    for i in range(3):
        land(paths, "historian", f"h{i}.csv", make_historian_batch(rows=8, seed=i))
        land(paths, "mes_states", f"s{i}.csv", make_mes_states_batch(rows=3 + i))
    land(paths, "cmms", "broken.csv", b"work_order_id\n\x00\xff garbage")
    land(paths, "cmms", "wo.csv", make_cmms_batch())
    batches = landing.claim_landed_files(paths)
    assert workers_for(len(batches)) == 2  # 8 files: worth two processes here
    outcomes = load_batches(paths, plant, batches, completeness_threshold=0.0)
    assert [o.audit["batch_id"] for o in outcomes] == [b.batch_id for b in batches]
    by_file = {o.audit["file"]: o.audit["status"] for o in outcomes}
    assert by_file["broken.csv"] == "quarantined"
    assert {f: s for f, s in by_file.items() if f != "broken.csv"} == dict.fromkeys(
        [b.file for b in batches if b.file != "broken.csv"], "loaded"
    )
    # each worker wrote its own audit record and lake file
    assert {r["file"]: r["status"] for r in read_audit(paths)} == by_file
    for o in outcomes:
        if o.audit["status"] == "loaded":
            assert (paths.lake / o.audit["source"] / f"{o.audit['batch_id']}.parquet").exists()


def test_a_few_batches_load_in_the_callers_process():
    assert workers_for(1) == workers_for(2) == 1
