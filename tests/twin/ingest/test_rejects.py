"""Rejected rows (twin/ingest/rejects.py): the rejects table, and duplicate detection by ordered proof or GROUP BY."""

import json

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.support.batches import NOW, land, make_historian_batch, to_parquet_bytes
from tests.support.lake import lake_rows, load_all, rejects, same_types
from twin.ingest import batch_load, landing
from twin.ingest.sources import REJECTS_SCHEMA


def test_row_accounting_and_rejects_table(paths, plant):
    land(
        paths,
        "historian",
        "mixed.csv",
        make_historian_batch(
            rows=12, defects=("nan", "unknown_tag", "duplicate_row", "future", "bad_quality")
        ),
    )
    audit = load_all(paths, plant)["mixed.csv"].audit
    assert audit["rows_in"] == audit["rows_loaded"] + audit["rows_rejected"] == 17
    assert audit["rows_rejected"] == 5
    table = pq.read_table(paths.lake / "rejects" / "historian" / f"{audit['batch_id']}.parquet")
    assert same_types(table.schema, REJECTS_SCHEMA)
    frame = table.to_pandas()
    assert frame["row_number"].tolist() == [13, 14, 15, 16, 17]
    assert set(frame["batch_id"]) == {audit["batch_id"]}
    assert set(frame["source"]) == {"historian"}
    assert json.loads(frame["record"][1])["tag"] == "L9-M99.ghost"
    loaded = lake_rows(paths, "historian", audit["batch_id"])
    assert len(loaded) == 12
    assert loaded["value"].notna().all()


# --- duplicate detection: the ordered-key proof and the general GROUP BY give the same answer ---


def _checked_table(rows):
    """A minimal ``checked`` relation: (rn, reason, _idx_tag, ts) as the proof reads it."""
    con = duckdb.connect()
    con.execute(
        'CREATE TABLE checked (rn BIGINT, reason VARCHAR, "_idx_tag" INTEGER, ts TIMESTAMP)'
    )
    for rn, (tag, second, reason) in enumerate(rows, start=1):
        con.execute(
            "INSERT INTO checked VALUES (?, ?, ?, TIMESTAMP '2026-03-02 06:00:00' + to_seconds(?))",
            [rn, reason, tag, second],
        )
    return con


@pytest.mark.parametrize(
    ("rows", "repeats", "proven"),
    [
        ([(0, 0, None), (0, 5, None), (1, 0, None), (1, 5, None), (2, 0, None)], False, True),
        ([(0, 0, None), (0, 5, None), (0, 5, None), (1, 0, None)], True, False),  # adjacent
        ([(0, 0, None), (1, 0, None), (0, 5, None), (1, 5, None)], False, True),  # time order
        ([(0, 0, None), (0, 5, None), (1, 0, None), (0, 5, None)], True, False),  # tag comes back
        ([(0, 0, None), (0, 10, None), (1, 0, None), (0, 5, None)], False, False),  # spans overlap
        ([(0, 0, None), (1, 0, None), (0, 20, None), (0, 30, None)], False, True),  # disjoint
        ([(0, 5, None), (0, 0, None), (0, 5, None)], True, False),  # time goes back in a run
        ([(0, 5, None), (0, 10, None), (0, 0, None)], False, True),  # spliced pieces, unique
        ([(0, 0, None), (0, 0, "unknown tag"), (0, 5, None)], False, True),  # rejects don't count
        ([], False, True),
    ],
)
@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_ordered_proof_is_sound_in_any_chunking(monkeypatch, rows, repeats, proven, chunk):
    """Sound: a repeated key is never 'proven unique', whatever the chunking. Complete enough:
    ordered input is proven in one chunk (smaller chunks may prove more, never less soundly)."""
    from twin.ingest import rejects as row_rejects
    from twin.ingest.sources import SPECS

    monkeypatch.setattr(row_rejects, "STREAM_ROWS", chunk)
    con = _checked_table(rows)
    result = row_rejects.keys_unique_in_order(con, SPECS["historian"], "")
    if repeats:
        assert result is False
    if chunk == 1 << 20:
        assert result is proven


def _reordered_batch(order: str, defects: bool, fmt: str) -> str | bytes:
    frame = make_historian_batch(
        rows=60,
        defects=("duplicate_row", "duplicate_key", "nan", "unknown_tag") if defects else (),
        as_frame=True,
    )
    if order == "tag then time":  # how historians export; the defects land next to their twins
        frame = frame.sort_values(["tag", "ts"], kind="stable")
    elif order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=3)
    if fmt == "csv":
        return frame.to_csv(index=False)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["value"] = frame["value"].astype(float)
    return to_parquet_bytes(frame)


@pytest.mark.parametrize("order", ["tag then time", "time then tag", "shuffled"])
@pytest.mark.parametrize("defects", [True, False])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_ordered_fast_path_gives_the_general_paths_output(
    paths, plant, monkeypatch, order, defects, fmt
):
    from twin.ingest import rejects as row_rejects

    land(paths, "historian", f"h.{fmt}", _reordered_batch(order, defects, fmt))
    (batch,) = landing.claim_landed_files(paths)
    monkeypatch.setattr(row_rejects, "STREAM_ROWS", 4)  # many chunks, out of order or not
    proofs = []
    real = row_rejects.keys_unique_in_order
    monkeypatch.setattr(
        row_rejects,
        "keys_unique_in_order",
        lambda *a: proofs.append(real(*a)) or proofs[-1],
    )

    def load():
        # a few samples per tag: completeness is not what this test is about (tests/support/lake.py)
        audit = batch_load.load_batch(
            paths, plant, batch, now=NOW, completeness_threshold=0.0
        ).audit
        loaded = lake_rows(paths, "historian", batch.batch_id).drop(columns="loaded_at")
        bad = (
            rejects(paths, "historian", batch.batch_id)
            if audit["rows_rejected"]
            else pd.DataFrame()
        )
        return {k: v for k, v in audit.items() if k not in ("loaded_at", "checks")}, loaded, bad

    fast = load()
    monkeypatch.setattr(row_rejects, "ordered_key", lambda spec: False)
    general = load()
    assert len(proofs) == 1  # the ordered pass ran once, in the first load
    if defects:  # a repeated key is never "proven unique"
        assert proofs == [False]
    elif order != "shuffled":  # ordered input is proven; shuffled input may or may not be
        assert proofs == [True]
    assert fast[0] == general[0]
    pd.testing.assert_frame_equal(fast[1], general[1])
    pd.testing.assert_frame_equal(fast[2], general[2])
    if defects:
        reasons = set(fast[2]["reason"])
        assert any(r.startswith("duplicate row (same as row") for r in reasons)
        assert any(r.startswith("duplicate key (tag, ts) of row") for r in reasons)


@pytest.mark.parametrize(("extra", "proven"), [((), True), (((6, 0, 5),), False)])
def test_ordered_proof_handles_pieces_streamed_out_of_file_order(extra, proven):
    """Parallel streaming may deliver rows 5, then 3–4 after rows 1–2 in one batch."""
    from twin.ingest import rejects as row_rejects
    from twin.ingest.sources import SPECS

    con = _checked_table([])
    for rn, tag, second in ((1, 0, 0), (2, 0, 5), (5, 0, 20), (3, 0, 10), (4, 0, 15), *extra):
        con.execute(
            "INSERT INTO checked VALUES (?, NULL, ?, TIMESTAMP '2026-03-02 06:00:00' + to_seconds(?))",
            [rn, tag, second],
        )
    assert row_rejects.keys_unique_in_order(con, SPECS["historian"], "") is proven
