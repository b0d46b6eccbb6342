"""dbt builds the publish models with enforced contracts over a tiny lake (bronze batches, simulation
output, failure-risk scores), and their output publishes as-is: warehouse → contract → catalog."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_contracts import PUBLISHED_TABLES, load_published_contract
from tests.support.dbt import dbt_build
from twin.paths import TwinPaths
from twin.publish.inputs import input_schema
from twin.publish.versions import ensure_publish_inputs, publish

pytestmark = pytest.mark.integration

T = dt.datetime
LOADED = T(2026, 3, 12, 0, 0)
WEEKS = [dt.date(2026, 3, 16), dt.date(2026, 3, 23)]


def write_bronze(lake) -> None:
    """One Berlin day (2026-03-10 local = [03-09 23:00, 03-10 23:00) UTC) of MES and historian data."""
    lake.write_batch(
        "mes_states",
        "mes-1",
        [
            {"machine_id": m, "state": "RUNNING", "start_ts": T(2026, 3, 10, 5),
             "end_ts": T(2026, 3, 10, 13), "reason_code": None}
            for m in ("L1-M1", "L1-M2")
        ],
        LOADED,
    )  # fmt: skip
    lake.write_batch(
        "mes_production",
        "prod-1",
        [
            {"machine_id": m, "start_ts": T(2026, 3, 10, 5), "end_ts": T(2026, 3, 10, 13),
             "product_id": "P1", "work_order_id": "WO1", "good_qty": 700, "scrap_qty": 10}
            for m in ("L1-M1", "L1-M2")
        ],
        LOADED,
    )  # fmt: skip
    lake.write_batch(
        "historian",
        "hist-1",
        [
            {"tag": "L1-M1.power", "ts": T(2026, 3, 10, 5) + dt.timedelta(minutes=i),
             "value": 10.0, "quality": "GOOD"}
            for i in range(60)
        ],
        LOADED,
    )  # fmt: skip


def write_publish_inputs(paths: TwinPaths) -> None:
    """The scenario engine's and the scorer's files, in the layout of data_contracts/README.md."""
    ensure_publish_inputs(paths)
    capacity, constraint = [], []
    for level, resource in (("line", "L1"), ("machine", "L1-M1"), ("machine", "L1-M2")):
        for week in WEEKS:
            for quantile, available in (("p10", 50.0), ("p50", 60.0), ("p90", 64.0)):
                capacity.append(
                    {
                        "site_id": "SITE1", "line_id": "L1", "resource_id": resource,
                        "resource_level": level, "bucket_grain": "week", "bucket_start": week,
                        "bucket_end": week + dt.timedelta(days=7), "scenario_id": "baseline",
                        "quantile": quantile, "calendar_hours": 72.0, "planned_downtime_hours": 2.0,
                        "expected_unplanned_downtime_hours": 70.0 - available,
                        "available_hours": available, "capacity_units": available * 100,
                        "uom": "parts", "rate_units_per_hour": 100.0,
                        "bottleneck_share": 1.0 if level == "line" else 0.5,
                        "is_partial": False, "covered_from_at": T(week.year, week.month, week.day),
                        "run_id": "run-1", "simulated_at": T(2026, 3, 12, 2),
                    }
                )  # fmt: skip
        if level == "machine":
            for week in WEEKS:
                constraint.append(
                    {
                        "site_id": "SITE1", "line_id": "L1", "scenario_id": "baseline",
                        "bucket_grain": "week", "bucket_start": week,
                        "bucket_end": week + dt.timedelta(days=7), "machine_id": resource,
                        "bottleneck_share": 0.6 if resource == "L1-M2" else 0.4,
                        "rank": 1 if resource == "L1-M2" else 2,
                    }
                )  # fmt: skip
    risk = [
        {
            "site_id": "SITE1", "machine_id": m, "as_of": T(2026, 3, 10, 22), "p_failure_72h": p,
            "hours_to_failure_p10": 30.0, "hours_to_failure_p50": 120.0,
            "hours_to_failure_p90": 400.0, "failure_mode": None, "model_version": "failure_model v1",
            "risk_drivers": why, "driver_1": why and why.split()[0],
        }
        for m, p, why in (("L1-M1", 0.05, None), ("L1-M2", 0.3, "vibration_mean_24h +4.1σ"))
    ]  # fmt: skip
    for rows, schema_name, path in (
        (capacity, "capacity_runs", paths.lake / "simulation" / "baseline.parquet"),
        (
            constraint,
            "constraint_map",
            paths.lake / "simulation" / "constraint_map" / "baseline.parquet",
        ),
        (risk, "machine_failure_risk", paths.lake / "ml" / "machine_failure_risk.parquet"),
        (
            [
                {
                    "site_id": "SITE1",
                    "line_id": "L1",
                    "scenario_id": "baseline",
                    "bucket_grain": "week",
                    "bucket_start": week,
                    "bucket_end": week + dt.timedelta(days=7),
                    "is_partial": False,
                    "uom": "parts",
                    "machines_with_risk": 1,
                    "capacity_p50_with_risk": 6000.0,
                    "capacity_p50_history_only": 6100.0,
                    "p50_difference_units": -100.0,
                    "p50_difference_share": -100.0 / 6100.0,
                    "capacity_p10_with_risk": 5000.0,
                    "capacity_p10_history_only": 5050.0,
                }
                for week in WEEKS
            ],
            "prediction_effect",
            paths.lake / "simulation" / "prediction_effect" / "baseline.parquet",
        ),
    ):
        pq.write_table(pa.Table.from_pylist(rows, schema=input_schema(schema_name)), path)


def run_dbt_build(tmp_path: Path) -> list[dict]:
    """`dbt build` of the publish models and everything upstream, in a subprocess."""
    proc = dbt_build(tmp_path, "+path:models/publish")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    manifest = json.loads((tmp_path / "dbt_target" / "manifest.json").read_text())
    for name in PUBLISHED_TABLES:
        node = manifest["nodes"][f"model.twinbridge.{name}"]
        assert node["config"]["contract"]["enforced"] is True, name
    return json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())["results"]


def test_publish_models_build_with_enforced_contracts_and_publish(
    tiny_lake_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tiny_lake_factory(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    write_bronze(lake)
    paths = TwinPaths(lake.home)
    write_publish_inputs(paths)
    monkeypatch.setenv("TWIN_HOME", str(lake.home))

    results = run_dbt_build(tmp_path)

    not_ok = [
        (r["unique_id"], r["status"]) for r in results if r["status"] not in {"success", "pass"}
    ]
    assert not not_ok, not_ok
    ran = {r["unique_id"] for r in results}
    assert {f"model.twinbridge.{n}" for n in PUBLISHED_TABLES} <= ran
    assert any("assert_capacity_supply_quantiles_ordered" in r for r in ran)
    assert any(
        r.startswith("test.twinbridge.accepted_values_capacity_supply_quantile") for r in ran
    )

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        for name in PUBLISHED_TABLES:
            described = con.execute(f"describe publish.{name}").fetchall()
            columns = load_published_contract(name)["columns"]
            assert [(r[0], r[1].lower()) for r in described] == [
                (c, s["type"]) for c, s in columns.items()
            ], name
        tables = {
            n: con.sql(f"select * from publish.{n}").to_arrow_table() for n in PUBLISHED_TABLES
        }
        kpi_rows = con.execute(
            "select count(*) filter (where machine_id is null), count(*) from publish.kpi_daily"
        ).fetchone()
    assert tables["capacity_supply"].num_rows == 18
    assert tables["machine_failure_risk"].num_rows == 2
    # contract 1.1.0: the drivers reach the published table as the scoring step wrote them
    drivers = tables["machine_failure_risk"].to_pandas().set_index("machine_id")
    assert drivers.loc["L1-M2", "risk_drivers"] == "vibration_mean_24h +4.1σ"
    assert drivers.loc["L1-M2", "driver_1"] == "vibration_mean_24h"
    assert drivers.loc["L1-M1", ["risk_drivers", "driver_1"]].isna().all()
    assert tables["constraint_map"].num_rows == 4
    assert tables["prediction_effect"].num_rows == 2  # one per line and week, baseline only
    assert not any(tables["capacity_supply"]["is_partial"].to_pylist())
    assert kpi_rows[0] >= 1  # line rows
    assert kpi_rows[1] > kpi_rows[0]  # and machine rows

    publication = publish(paths, tables, {"batch_ids": ["mes-1", "prod-1", "hist-1"]})

    assert publication.manifest["model_version"] == "failure_model v1"  # from the risk table
    with duckdb.connect(str(publication.catalog), read_only=True) as con:
        assert con.execute("select count(*) from ibp_capasupply").fetchone() == (6,)
        effect = con.execute(
            "select model_version, sum(p50_difference_units) from prediction_effect group by all"
        ).fetchall()
        assert effect == [("failure_model v1", -200.0)]  # lineage stamped like capacity_supply
        assert con.execute("select count(*) from kpi_daily").fetchone() == (kpi_rows[1],)
