"""Loading one batch end to end (twin/ingest/batch_load.py): clean loads, quarantine, empty batches, reloads."""

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.support.batches import (
    NOW,
    land,
    make_cmms_batch,
    make_historian_batch,
    make_mes_production_batch,
    make_mes_states_batch,
)
from tests.support.lake import lake_rows, load_all, same_types
from twin.ingest import batch_load, landing
from twin.ingest.sources import lake_schema


@pytest.mark.parametrize(
    ("source", "content", "rows"),
    [
        ("historian", make_historian_batch(rows=15), 15),
        ("mes_states", make_mes_states_batch(rows=6), 6),
        ("mes_production", make_mes_production_batch(rows=4), 4),
        ("cmms", make_cmms_batch(rows=3), 3),
    ],
)
def test_good_file_of_each_source_loads_clean(paths, plant, source, content, rows):
    land(paths, source, "good.csv", content)
    outcome = load_all(paths, plant)["good.csv"]
    audit = outcome.audit
    assert (audit["status"], audit["rows_in"], audit["rows_loaded"], audit["rows_rejected"]) == (
        "loaded",
        rows,
        rows,
        0,
    )
    assert audit["reason"] is None
    assert outcome.contract.success, outcome.contract.failed
    table = pq.read_table(paths.lake / source / f"{audit['batch_id']}.parquet")
    assert same_types(table.schema, lake_schema(source))
    assert table.num_rows == rows
    assert not (paths.lake / "rejects" / source / f"{audit['batch_id']}.parquet").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file (0 bytes)"),
        (
            "tag,time,value,quality\nL1-M01.spindle_temp,2026-03-02T06:00:00Z,1,GOOD\n",
            "wrong header",
        ),
        ("tag,ts,value\nL1-M01.spindle_temp,2026-03-02T06:00:00Z,1\n", "wrong header"),
    ],
)
def test_unreadable_files_are_quarantined_and_others_still_load(paths, plant, content, reason):
    land(paths, "historian", "bad.csv", content)
    land(paths, "historian", "good.csv", make_historian_batch(rows=5, machine="L2-M01"))
    outcomes = load_all(paths, plant)
    audit = outcomes["bad.csv"].audit
    assert audit["status"] == "quarantined"
    assert audit["reason"].startswith(reason)
    assert audit["rows_in"] == audit["rows_loaded"] + audit["rows_rejected"]
    assert outcomes["bad.csv"].contract is None
    quarantined = paths.quarantine / "historian" / f"{audit['batch_id']}__bad.csv"
    assert quarantined.exists()
    assert (quarantined.parent / f"{quarantined.name}.reason.txt").read_text().startswith(reason)
    assert not (paths.lake / "historian" / f"{audit['batch_id']}.parquet").exists()
    assert outcomes["good.csv"].audit["status"] == "loaded"


@pytest.mark.parametrize("source", ["cmms", "historian"])
def test_a_header_only_file_is_an_empty_batch_not_a_bad_one(paths, plant, source):
    # A day without work orders exports just the header: nothing is wrong with that file.
    header = {
        "cmms": "work_order_id,machine_id,type,failure_mode,reported_ts,start_ts,end_ts\n",
        "historian": "tag,ts,value,quality\n",
    }[source]
    land(paths, source, "empty_day.csv", header)
    outcome = load_all(paths, plant)["empty_day.csv"]
    assert outcome.audit["status"] == "loaded"
    assert (
        outcome.audit["rows_in"],
        outcome.audit["rows_loaded"],
        outcome.audit["rows_rejected"],
    ) == (0, 0, 0)
    assert outcome.contract is not None
    assert outcome.contract.success
    assert (paths.lake / source / f"{outcome.audit['batch_id']}.parquet").exists()


def test_reloading_a_batch_is_idempotent(paths, plant):
    land(paths, "historian", "h.csv", make_historian_batch(rows=10, defects=("nan", "unknown_tag")))
    (batch,) = landing.claim_landed_files(paths)
    # a few samples per tag: completeness is not what this test is about (tests/support/lake.py)
    first = batch_load.load_batch(paths, plant, batch, now=NOW, completeness_threshold=0.0).audit
    rows_before = lake_rows(paths, "historian", batch.batch_id)
    second = batch_load.load_batch(paths, plant, batch, now=NOW, completeness_threshold=0.0).audit
    assert {k: v for k, v in first.items() if k != "checks"} == {
        k: v for k, v in second.items() if k != "checks"
    }
    rows_after = lake_rows(paths, "historian", batch.batch_id)
    key = ["tag", "ts", "value", "quality"]
    pd.testing.assert_frame_equal(
        rows_before.sort_values(key).reset_index(drop=True),
        rows_after.sort_values(key).reset_index(drop=True),
    )
    assert len(list((paths.lake / "historian").glob("*.parquet"))) == 2  # the batch + _empty
    assert len(batch_load.read_audit(paths)) == 1
    count = duckdb.sql(
        f"SELECT count(*) FROM '{paths.lake}/rejects/historian/*.parquet'"
    ).fetchall()[0][0]
    assert count == 2


def test_contract_failure_quarantines_and_publishes_nothing(paths, plant, monkeypatch):
    import great_expectations as gx

    strict = gx.ExpectationSuite(
        name="historian",
        expectations=[
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "value", "max_value": 1.0},
            }
        ],
    )
    monkeypatch.setattr(batch_load, "load_suite", lambda name: strict)
    land(paths, "historian", "h.csv", make_historian_batch(rows=5, defects=("nan",)))
    outcome = load_all(paths, plant)["h.csv"]
    assert outcome.contract is not None
    assert not outcome.contract.success
    assert outcome.audit["status"] == "quarantined"
    assert outcome.audit["reason"].startswith(
        "contract failed: expect_column_values_to_be_between(value)"
    )
    assert outcome.audit["rows_in"] == outcome.audit["rows_loaded"] + outcome.audit["rows_rejected"]
    batch_id = outcome.audit["batch_id"]
    assert not (paths.lake / "historian" / f"{batch_id}.parquet").exists()
    assert not (paths.lake / "rejects" / "historian" / f"{batch_id}.parquet").exists()
