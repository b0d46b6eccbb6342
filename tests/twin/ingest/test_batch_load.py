import json

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.batches import (
    NOW,
    land,
    make_cmms_batch,
    make_historian_batch,
    make_mes_production_batch,
    make_mes_states_batch,
    to_parquet_bytes,
)
from twin.ingest import batch_load, landing
from twin.ingest.sources import REJECTS_SCHEMA, lake_schema


def same_types(a, b) -> bool:
    """Names and types; DuckDB marks constant columns NOT NULL, which readers ignore."""
    return [(f.name, f.type) for f in a] == [(f.name, f.type) for f in b]


def load_all(paths, plant, **kwargs):
    """Claim everything in landing and load it; outcomes keyed by file name."""
    return {
        b.file: batch_load.load_batch(paths, plant, b, now=NOW, **kwargs)
        for b in landing.claim_landed_files(paths)
    }


def lake_rows(paths, source, batch_id):
    return pq.read_table(paths.lake / source / f"{batch_id}.parquet").to_pandas()


def rejects(paths, source, batch_id):
    return pq.read_table(paths.lake / "rejects" / source / f"{batch_id}.parquet").to_pandas()


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
    ("defect", "reason"),
    [
        ("nan", "value is not finite (NaN/inf)"),
        ("inf", "value is not finite (NaN/inf)"),
        ("unknown_tag", "unknown tag"),
        ("out_of_range", "value outside the tag min/max"),
        ("duplicate_row", "duplicate row (same as row 1)"),
        ("duplicate_key", "duplicate key (tag, ts) of row 1"),
        ("future", "ts is in the future"),
        ("bad_ts", "ts is not an ISO 8601 timestamp"),
        ("bad_quality", "quality not one of GOOD/UNCERTAIN/BAD"),
        ("missing_value", "missing value"),
    ],
)
def test_each_bad_historian_row_is_rejected_with_its_reason(paths, plant, defect, reason):
    land(paths, "historian", "bad.csv", make_historian_batch(rows=10, defects=(defect,)))
    land(paths, "historian", "good.csv", make_historian_batch(rows=10, seed=1, machine="L1-M02"))
    outcomes = load_all(paths, plant)
    audit = outcomes["bad.csv"].audit
    assert (audit["status"], audit["rows_in"], audit["rows_loaded"], audit["rows_rejected"]) == (
        "partially rejected",
        11,
        10,
        1,
    )
    assert audit["reason"] == f"1 × {reason}"
    table = rejects(paths, "historian", audit["batch_id"])
    assert table.to_dict("records")[0]["row_number"] == 11
    assert table["reason"].tolist() == [reason]
    assert json.loads(table["record"][0])["tag"]
    assert outcomes["good.csv"].audit["status"] == "loaded"


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


def test_wrong_types_in_csv_are_row_rejects(paths, plant):
    content = make_historian_batch(rows=4) + "L1-M01.spindle_temp,2026-03-02T05:00:00Z,warm,GOOD\n"
    land(paths, "historian", "typed.csv", content)
    audit = load_all(paths, plant)["typed.csv"].audit
    assert audit["reason"] == "1 × value is not a number"


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


def test_timestamps_with_offsets_become_naive_utc(paths, plant):
    content = (
        "tag,ts,value,quality\n"
        "L1-M01.spindle_temp,2026-03-02T08:00:00+02:00,1.5,GOOD\n"
        "L1-M01.spindle_temp,2026-03-02T06:00:10Z,1.5,GOOD\n"
        "L1-M01.spindle_temp,2026-03-02 06:00:20,1.5,GOOD\n"
        "L1-M01.spindle_temp,2026-03-02T01:00:30-05:00,1.5,GOOD\n"
    )
    land(paths, "historian", "tz.csv", content)
    audit = load_all(paths, plant)["tz.csv"].audit
    loaded = lake_rows(paths, "historian", audit["batch_id"]).sort_values("ts")
    assert loaded["ts"].dt.tz is None
    assert [str(t) for t in loaded["ts"]] == [
        "2026-03-02 06:00:00",
        "2026-03-02 06:00:10",
        "2026-03-02 06:00:20",
        "2026-03-02 06:00:30",
    ]
    assert audit["first_ts"] == "2026-03-02T06:00:00"
    assert audit["last_ts"] == "2026-03-02T06:00:30"


def test_quality_is_case_insensitive_and_stored_upper_case(paths, plant):
    land(paths, "historian", "q.csv", make_historian_batch(rows=3, defects=("lower_quality",)))
    audit = load_all(paths, plant)["q.csv"].audit
    assert audit["status"] == "loaded"
    assert set(lake_rows(paths, "historian", audit["batch_id"])["quality"]) == {"GOOD", "UNCERTAIN"}


def test_reloading_a_batch_is_idempotent(paths, plant):
    land(paths, "historian", "h.csv", make_historian_batch(rows=10, defects=("nan", "unknown_tag")))
    (batch,) = landing.claim_landed_files(paths)
    first = batch_load.load_batch(paths, plant, batch, now=NOW).audit
    rows_before = lake_rows(paths, "historian", batch.batch_id)
    second = batch_load.load_batch(paths, plant, batch, now=NOW).audit
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


def test_mes_and_cmms_rules(paths, plant):
    land(
        paths,
        "mes_states",
        "s.csv",
        make_mes_states_batch(
            defects=("end_before_start", "bad_state", "unknown_machine", "duplicate_key")
        ),
    )
    land(paths, "cmms", "c.csv", make_cmms_batch(defects=("bad_type", "duplicate_wo")))
    outcomes = load_all(paths, plant)
    states = outcomes["s.csv"].audit
    assert (states["rows_loaded"], states["rows_rejected"]) == (6, 4)
    cmms = outcomes["c.csv"].audit
    assert (
        cmms["reason"]
        == "1 × duplicate key (work_order_id) of row 1; 1 × type not one of CORRECTIVE/PREVENTIVE"
    )
    loaded = lake_rows(paths, "cmms", cmms["batch_id"])
    assert loaded["end_ts"].isna().sum() == 1  # the open repair keeps a null end
    assert set(loaded["type"]) == {"CORRECTIVE", "PREVENTIVE"}


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


def test_ensure_lake_writes_empty_schemas(paths):
    batch_load.ensure_lake(paths)
    for source in ("historian", "mes_states", "mes_production", "cmms"):
        assert pq.read_schema(paths.lake / source / "_empty.parquet").equals(lake_schema(source))
        assert pq.read_schema(paths.lake / "rejects" / source / "_empty.parquet").equals(
            REJECTS_SCHEMA
        )
    assert pa.types.is_timestamp(lake_schema("historian").field("ts").type)


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
        audit = batch_load.load_batch(paths, plant, batch, now=NOW).audit
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
