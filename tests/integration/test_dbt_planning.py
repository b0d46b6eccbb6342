"""The planning sources through ingest and dbt: the most recently loaded plan version is the current
plan, whole (DESIGN §3.5), and the latest assumed capacity per resource and bucket wins."""

import datetime as dt

import duckdb
import pytest

from tests.support.batches import land
from tests.support.dbt import built_results, dbt_build
from tests.support.small_plant import PLANT
from twin.ingest import batch_load, landing
from twin.ingest.lake_tables import ensure_lake

pytestmark = pytest.mark.integration

HEADER = "plan_version,product_id,bucket_start,quantity,line_id\n"


def _load(paths, source, name, content, now):
    land(paths, source, name, content)
    (batch,) = landing.claim_landed_files(paths, (source,))
    outcome = batch_load.load_batch(paths, PLANT, batch, now=now)
    assert outcome.audit["status"] == "loaded", outcome.audit


def test_the_latest_plan_version_wins_whole(paths, tmp_path):
    ensure_lake(paths)
    day = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    # v7 is loaded first but names weeks v6 no longer has; v6 arrives later and is the current plan
    _load(
        paths,
        "demand_plan",
        "v7.csv",
        HEADER + "v7,P1,2026-07-06,100,A\nv7,P1,2026-07-20,50,A\n",
        day,
    )
    _load(
        paths,
        "demand_plan",
        "v6.csv",
        HEADER + "v6,P1,2026-07-06,120,A\nv6,P2,2026-07-08,80,\n",
        day + dt.timedelta(hours=1),
    )
    assumed = "resource_id,bucket_start,capacity_units\nA,2026-07-06,{}\n"
    _load(paths, "assumed_capacity", "a1.csv", assumed.format(900), day)
    _load(paths, "assumed_capacity", "a2.csv", assumed.format(950), day + dt.timedelta(hours=2))

    built_results(
        tmp_path,
        dbt_build(
            tmp_path, "stg_planning__demand_plan", "stg_planning__assumed_capacity", home=paths.home
        ),
    )
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        plan = con.execute(
            "SELECT plan_version, product_id, bucket_start, week_start, demand_units, line_id "
            "FROM staging.stg_planning__demand_plan ORDER BY product_id"
        ).fetchall()
        capacity = con.execute(
            "SELECT resource_id, assumed_capacity_units FROM staging.stg_planning__assumed_capacity"
        ).fetchall()
    assert plan == [
        ("v6", "P1", dt.date(2026, 7, 6), dt.date(2026, 7, 6), 120.0, "A"),
        # a Wednesday bucket counts for its week (Monday 2026-07-06)
        ("v6", "P2", dt.date(2026, 7, 8), dt.date(2026, 7, 6), 80.0, None),
    ]
    assert capacity == [("A", 950.0)]
