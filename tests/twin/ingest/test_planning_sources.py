"""The planning system's sources (DESIGN §3.5): the demand plan and the assumed capacity load with the
same batch, audit, quarantine, rejects and GX rules as the plant's sources."""

import copy
import datetime as dt

import pandas as pd
import pytest

from tests.support.batches import land, to_parquet_bytes
from tests.support.lake import lake_rows, load_all, rejects
from tests.support.small_plant import RAW
from twin.plant.model import parse_plant

HEADER = "plan_version,product_id,bucket_start,quantity,line_id\n"


@pytest.fixture(scope="module")
def small_plant():
    """The two-line plant plus a product P9 that no line has a cycle time for."""
    raw = copy.deepcopy(RAW)
    raw["products"].append({"id": "P9", "family": "f"})
    return parse_plant(raw)


def _load_one(paths, plant, source, name, content):
    land(paths, source, name, content)
    outcome = load_all(paths, plant)[name]
    return outcome, outcome.audit


def test_each_bad_demand_row_is_rejected_with_its_reason_and_the_rest_loads(paths, small_plant):
    content = HEADER + (
        "v1,P1,2026-07-06,120,A\n"  # 1 good
        "v1,P2,2026-07-06,80,\n"  # 2 good: no line, split later over the lines that make P2
        "v1,P7,2026-07-06,10,A\n"  # 3 product not in the plant model
        "v1,P9,2026-07-06,10,\n"  # 4 known product, but no line can make it
        "v1,P1,2026-07-06,10,Z\n"  # 5 line not in the plant model
        "v1,P1,2026-07-06,10,B\n"  # 6 line B cannot make P1
        "v1,P2,2026-07-13,-3,B\n"  # 7 negative demand
        "v1,P2,2026-07-13 06:00,5,B\n"  # 8 a time, not a bucket date
        "v1,P1,2026-07-06,99,A\n"  # 9 same key as row 1
    )
    outcome, audit = _load_one(paths, small_plant, "demand_plan", "plan.csv", content)
    assert (audit["status"], audit["rows_in"], audit["rows_loaded"]) == (
        "partially rejected",
        9,
        2,
    )
    assert outcome.contract.success, outcome.contract.failed
    reasons = rejects(paths, "demand_plan", audit["batch_id"]).set_index("row_number")["reason"]
    assert reasons.to_dict() == {
        3: "unknown product_id",
        4: "no line can make product_id",
        5: "unknown line_id",
        6: "line_id cannot make product_id",
        7: "quantity is negative",
        8: "bucket_start is not a date (YYYY-MM-DD)",
        9: "duplicate key (plan_version, product_id, bucket_start, line_id) of row 1",
    }
    loaded = lake_rows(paths, "demand_plan", audit["batch_id"])
    assert loaded["quantity"].tolist() == [120.0, 80.0]
    assert loaded["line_id"].tolist()[0] == "A"
    assert pd.isna(loaded["line_id"].tolist()[1])
    assert loaded["bucket_start"].tolist() == [dt.date(2026, 7, 6)] * 2  # a DATE column in the lake


def test_a_plan_without_the_optional_columns_loads_and_a_foreign_site_is_rejected(
    paths, small_plant
):
    frame = pd.DataFrame(
        {
            "plan_version": ["v2", "v2"],
            "product_id": ["P2", "P2"],
            "bucket_start": [dt.date(2026, 7, 6), dt.date(2026, 7, 13)],
            "quantity": [10.0, 20.0],
        }
    )
    _, audit = _load_one(paths, small_plant, "demand_plan", "plan.parquet", to_parquet_bytes(frame))
    assert (audit["status"], audit["rows_loaded"]) == ("loaded", 2), audit
    loaded = lake_rows(paths, "demand_plan", audit["batch_id"])
    assert loaded["line_id"].isna().all()
    assert loaded["site_id"].isna().all()

    other = "plan_version,product_id,bucket_start,quantity,site_id\nv3,P2,2026-07-06,5,S1\nv3,P2,2026-07-13,5,S2\n"
    _, audit = _load_one(paths, small_plant, "demand_plan", "other_site.csv", other)
    reasons = rejects(paths, "demand_plan", audit["batch_id"])["reason"].tolist()
    assert (audit["rows_loaded"], reasons) == (1, ["site_id is not this plant's site"])


def test_a_plan_file_with_a_wrong_header_is_quarantined_whole(paths, small_plant):
    content = "version,product,week,qty\nv1,P1,2026-07-06,1\n"
    _, audit = _load_one(paths, small_plant, "demand_plan", "bad.csv", content)
    assert audit["status"] == "quarantined"
    assert "wrong header" in audit["reason"]
    assert "plan_version" in audit["reason"]
    assert not (paths.lake / "demand_plan" / f"{audit['batch_id']}.parquet").exists()


def test_assumed_capacity_names_a_line_or_a_machine(paths, small_plant):
    content = (
        "resource_id,bucket_start,capacity_units\n"
        "A,2026-07-06,4000\nA1,2026-07-06,4100\nQ,2026-07-06,1\nB,2026-07-06,-1\n"
    )
    outcome, audit = _load_one(paths, small_plant, "assumed_capacity", "assumed.csv", content)
    assert outcome.contract.success, outcome.contract.failed
    reasons = rejects(paths, "assumed_capacity", audit["batch_id"]).set_index("row_number")
    assert reasons["reason"].to_dict() == {
        3: "unknown resource_id",
        4: "capacity_units is negative",
    }
    loaded = lake_rows(paths, "assumed_capacity", audit["batch_id"])
    assert loaded["resource_id"].tolist() == ["A", "A1"]
