"""Row rules (twin/ingest/row_rules.py): each broken rule rejects its row with its reason; fields are typed."""

import json

import pytest

from tests.support.batches import land, make_cmms_batch, make_historian_batch, make_mes_states_batch
from tests.support.lake import lake_rows, load_all, rejects


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


def test_wrong_types_in_csv_are_row_rejects(paths, plant):
    content = make_historian_batch(rows=4) + "L1-M01.spindle_temp,2026-03-02T05:00:00Z,warm,GOOD\n"
    land(paths, "historian", "typed.csv", content)
    audit = load_all(paths, plant)["typed.csv"].audit
    assert audit["reason"] == "1 × value is not a number"


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
