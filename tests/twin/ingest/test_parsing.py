"""Parsing landed files (twin/ingest/parsing.py): unsplittable and cut CSV rows, bad UTF-8, Parquet types and corruption."""

import pandas as pd

from tests.support.batches import land, make_historian_batch, to_parquet_bytes
from tests.support.lake import lake_rows, load_all, rejects


def test_truncated_csv_rejects_the_cut_row_and_keeps_the_rest(paths, plant):
    content = make_historian_batch(rows=8)
    land(paths, "historian", "cut.csv", content.rstrip("\n")[:-7])  # cut mid-row, no line end
    land(paths, "historian", "good.csv", make_historian_batch(rows=8, machine="L1-M03"))
    outcomes = load_all(paths, plant)
    audit = outcomes["cut.csv"].audit
    assert (audit["rows_in"], audit["rows_loaded"], audit["rows_rejected"]) == (8, 7, 1)
    assert rejects(paths, "historian", audit["batch_id"])["row_number"].tolist() == [8]
    assert outcomes["good.csv"].audit["status"] == "loaded"


def test_structural_rows_are_rejected_with_correct_row_numbers(paths, plant):
    lines = make_historian_batch(rows=6).splitlines()
    lines.insert(2, "L1-M01.spindle_temp,2026-03-02T06:00:00Z")  # data row 2: missing fields
    lines.insert(4, lines[5] + ",extra")  # data row 4: too many fields
    land(paths, "historian", "ragged.csv", "\n".join(lines) + "\n")
    audit = load_all(paths, plant)["ragged.csv"].audit
    assert (audit["rows_in"], audit["rows_loaded"], audit["rows_rejected"]) == (8, 6, 2)
    frame = rejects(paths, "historian", audit["batch_id"])
    assert frame["row_number"].tolist() == [2, 4]
    assert frame["reason"].tolist() == [
        "malformed row: missing fields",
        "malformed row: too many fields",
    ]
    loaded = lake_rows(paths, "historian", audit["batch_id"])
    assert len(loaded) == 6


def test_non_utf8_row_is_rejected(paths, plant):
    content = make_historian_batch(rows=5).encode()
    content += b"L1-M01.spindle_temp\xff\xfe,2026-03-02T05:00:00Z,1.0,GOOD\n"
    land(paths, "historian", "latin.csv", content)
    audit = load_all(paths, plant)["latin.csv"].audit
    assert (audit["rows_loaded"], audit["rows_rejected"]) == (5, 1)
    assert audit["reason"] == "1 × malformed row: not UTF-8"


def test_parquet_good_file_loads(paths, plant):
    frame = make_historian_batch(rows=10, as_frame=True)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["value"] = frame["value"].astype(float)
    land(paths, "historian", "good.parquet", to_parquet_bytes(frame))
    outcome = load_all(paths, plant)["good.parquet"]
    assert outcome.audit["status"] == "loaded", outcome.audit["reason"]
    loaded = lake_rows(paths, "historian", outcome.audit["batch_id"])
    assert loaded["ts"].min() == pd.Timestamp("2026-03-02 06:00:00")


def test_parquet_with_wrong_types_is_quarantined(paths, plant):
    frame = make_historian_batch(rows=5, as_frame=True).astype({"value": str})
    land(paths, "historian", "strings.parquet", to_parquet_bytes(frame))
    audit = load_all(paths, plant)["strings.parquet"].audit
    assert audit["status"] == "quarantined"
    assert audit["reason"] == "wrong Parquet types: value is VARCHAR, expected double"


def test_corrupt_parquet_is_quarantined(paths, plant):
    frame = make_historian_batch(rows=50, as_frame=True)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    data = bytearray(to_parquet_bytes(frame))
    data[20:200] = bytes(180)  # zero the first column's pages; footer intact
    land(paths, "historian", "corrupt.parquet", bytes(data))
    land(paths, "historian", "short.parquet", bytes(data[:30]))
    outcomes = load_all(paths, plant)
    for name in ("corrupt.parquet", "short.parquet"):
        assert outcomes[name].audit["status"] == "quarantined"
        assert outcomes[name].audit["reason"].startswith("unreadable")
