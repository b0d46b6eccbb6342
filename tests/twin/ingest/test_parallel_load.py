"""A burst's batches loaded side by side in worker processes give what one-by-one loading gives."""

from dataclasses import replace

from tests.support.batches import land, make_cmms_batch, make_historian_batch, make_mes_states_batch
from twin.ingest import landing
from twin.ingest.audit import read_audit
from twin.ingest.parallel_load import (
    BYTES_PER_SECOND,
    SECONDS_PER_WORKER,
    load_batches,
    workers_for,
)


def test_batches_load_in_worker_processes_in_order_with_their_own_outcomes(paths, plant):
    for i in range(3):
        land(paths, "historian", f"h{i}.csv", make_historian_batch(rows=8, seed=i))
        land(paths, "mes_states", f"s{i}.csv", make_mes_states_batch(rows=3 + i))
    land(paths, "cmms", "broken.csv", b"work_order_id\n\x00\xff garbage")
    land(paths, "cmms", "wo.csv", make_cmms_batch())
    batches = landing.claim_landed_files(paths)
    outcomes = load_batches(paths, plant, batches, completeness_threshold=0.0, workers=2)
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


def test_small_files_load_in_the_callers_process_big_ones_in_two(paths, tmp_path):
    for i in range(12):
        land(paths, "historian", f"h{i}.csv", make_historian_batch(rows=8, seed=i))
    small = landing.claim_landed_files(paths)
    assert workers_for(small) == 1  # a dozen small files: a loader's start-up costs more
    big = tmp_path / "day.parquet"
    with big.open("wb") as out:
        out.truncate(int(3 * SECONDS_PER_WORKER * BYTES_PER_SECOND))  # a seed-scale day's size
    assert workers_for([*small, replace(small[0], archived=big)]) == 2
