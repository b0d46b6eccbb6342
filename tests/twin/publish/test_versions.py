"""Publication: contract check blocks bad tables, versions are immutable, the switch is atomic under a
concurrent reader, rollback, lineage in the manifest, and the connector views' shapes."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from data_contracts import CONNECTOR_VIEWS, PUBLISHED_TABLES, load_published_contract
from tests.support.publication import LINEAGE, make_tables
from twin.paths import TwinPaths
from twin.publish.inputs import INPUTS, input_schema
from twin.publish.versions import (
    ContractViolation,
    check_tables,
    ensure_publish_inputs,
    list_versions,
    publish,
    read_manifest,
    rollback,
)


def _catalog_rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_publish_writes_an_immutable_version_and_switches_the_catalog(paths: TwinPaths) -> None:
    publication = publish(paths, make_tables(), LINEAGE)
    pid = publication.publication_id
    root = paths.published
    assert list_versions(paths) == [pid]
    version = root / "versions" / pid
    expected = {f"{n}.parquet" for n in (*PUBLISHED_TABLES, *CONNECTOR_VIEWS)}
    kept = {"catalog.duckdb", "manifest.json", "report.html", "exports"}
    assert expected | kept == {p.name for p in version.iterdir()}
    # The planning-system files are part of the version, listed in its manifest and read-only.
    exports = read_manifest(paths)["exports"]
    assert exports["dir"] == "exports"
    assert set(exports["files"]) == {"ibp_capasupply.csv", "o9_resource_capacity.csv"}
    assert exports["skipped"] == {
        "kinaxis_constraint_available.tsv": "capacity_supply has no day buckets"
    }
    for name, listed in exports["files"].items():
        file = version / "exports" / name
        assert len(file.read_bytes()) == listed["bytes"]
        assert file.stat().st_mode & 0o777 == 0o444
    assert (version / "exports").stat().st_mode & 0o777 == 0o555
    # Nothing temporary is left next to the live files.
    assert sorted(p.name for p in root.iterdir()) == [
        ".publish.lock",
        "catalog.duckdb",
        "events",  # the change events' outbox (twin/publish/events/)
        "manifest.json",
        "report.html",
        "versions",
    ]
    # Parquet and catalog hold exactly the contract's columns and types, lineage stamped.
    for name in PUBLISHED_TABLES:
        contract = load_published_contract(name)
        described = _catalog_rows(publication.catalog, f"describe {name}")
        assert [(r[0], r[1].lower()) for r in described] == [
            (c, s["type"]) for c, s in contract["columns"].items()
        ]
        assert pq.read_schema(version / f"{name}.parquet").names == list(contract["columns"])
        ids = _catalog_rows(publication.catalog, f"select distinct publication_id from {name}")
        assert ids == [(pid,)]
    stamped = _catalog_rows(
        publication.catalog, "select distinct model_version, published_at from capacity_supply"
    )
    assert len(stamped) == 1
    assert stamped[0][0] == "failure_model v3"
    index = _catalog_rows(publication.catalog, "select name, kind, row_count from _publication")
    assert ("capacity_supply", "table", 36) in index
    assert ("ibp_capasupply", "view", 6) in index


def test_manifest_names_version_lineage_contracts_checks_and_versions(paths: TwinPaths) -> None:
    publication = publish(paths, make_tables(), LINEAGE)
    manifest = read_manifest(paths)
    assert manifest == publication.manifest
    assert manifest["publication_id"] == publication.publication_id
    assert manifest["published_at"].endswith("Z")
    assert manifest["model_version"] == "failure_model v3"
    assert manifest["scenario_set"] == "scenarios@abc123"
    assert manifest["scenarios"] == ["baseline", "overtime"]
    assert manifest["data"]["batches"] == {"count": 3, "ids": ["b1", "b2", "b3"]}
    assert manifest["data"]["window"] == {"start": "2026-11-01", "end": "2026-11-21"}
    assert manifest["data"]["capacity_horizon"] == {
        "start": "2026-11-23",
        "end": "2026-12-07",
        "start_at": "2026-11-23T00:00:00Z",  # capacity_supply 1.1.0: where the horizon starts
    }
    assert manifest["lineage"] == {"run_id": "dagster-run-42"}
    assert manifest["tables"]["capacity_supply"]["rows"] == 36
    assert (
        manifest["tables"]["kpi_daily"]["contract_version"]
        == load_published_contract("kpi_daily")["version"]
    )
    assert set(manifest["views"]) == set(CONNECTOR_VIEWS)
    assert {c["table"] for c in manifest["checks"]} == set(PUBLISHED_TABLES)
    assert all(c["passed"] and c["evaluated"] > 0 for c in manifest["checks"])
    assert manifest["versions"] == [publication.publication_id]
    assert manifest["switch"]["kind"] == "publish"


def test_a_table_breaking_its_contract_blocks_the_whole_publication(paths: TwinPaths) -> None:
    first = publish(paths, make_tables(), LINEAGE)
    bad = make_tables(scale=2.0)
    capacity = bad["capacity_supply"]
    # p90 below p10 for one resource bucket, a negative capacity, an unknown quantile label.
    capacity.loc[capacity["quantile"] == "p90", "available_hours"] = 10.0
    capacity.loc[0, "capacity_units"] = -1.0
    bad["kpi_daily"].loc[0, "oee"] = 1.7
    bad["machine_failure_risk"] = bad["machine_failure_risk"].drop(columns=["failure_mode"])
    before = sorted(p.name for p in (paths.published / "versions").iterdir())

    with pytest.raises(ContractViolation) as raised:
        publish(paths, bad, LINEAGE)

    message = str(raised.value)
    assert "quantiles_p10_le_p50_le_p90" in message
    assert "expect_column_values_to_be_between(capacity_units)" in message
    assert "expect_column_values_to_be_between(oee)" in message
    assert "missing column failure_mode" in message
    failed = {c.table for c in raised.value.checks if not c.passed}
    assert failed == {"capacity_supply", "kpi_daily", "machine_failure_risk"}
    # Nothing was written: same versions, the old version is still current.
    assert sorted(p.name for p in (paths.published / "versions").iterdir()) == before
    assert read_manifest(paths)["publication_id"] == first.publication_id
    assert _catalog_rows(first.catalog, "select distinct publication_id from kpi_daily") == [
        (first.publication_id,)
    ]


def test_check_tables_reports_each_table_without_writing(paths: TwinPaths) -> None:
    tables = make_tables()
    tables["constraint_map"]["rank"] = tables["constraint_map"]["rank"].astype(str)
    del tables["kpi_daily"]
    checks = {c.table: c for c in check_tables(tables, LINEAGE)}
    assert checks["capacity_supply"].passed
    assert checks["machine_failure_risk"].passed
    assert checks["kpi_daily"].failures == ["table missing from the publication"]
    assert checks["constraint_map"].failures == ["column rank: type VARCHAR, contract says integer"]
    assert not paths.published.exists() or not any(paths.published.iterdir())


def test_an_empty_capacity_table_blocks_publication(paths: TwinPaths) -> None:
    tables = make_tables()
    tables["capacity_supply"] = tables["capacity_supply"].iloc[0:0]
    checks = {c.table: c for c in check_tables(tables, LINEAGE)}
    assert checks["capacity_supply"].failures == ["exact:min_rows: 0 rows < 1"]
    assert all(c.passed for name, c in checks.items() if name != "capacity_supply")


def test_rollback_switches_back_and_keeps_every_version_readable(paths: TwinPaths) -> None:
    first = publish(paths, make_tables(scale=1.0), LINEAGE)
    second = publish(paths, make_tables(scale=2.0), LINEAGE)
    assert list_versions(paths) == [first.publication_id, second.publication_id]

    back = rollback(paths, first.publication_id)

    manifest = read_manifest(paths)
    assert back.publication_id == manifest["publication_id"] == first.publication_id
    assert manifest["switch"]["kind"] == "rollback"
    assert manifest["switch"]["from"] == second.publication_id
    assert [h["kind"] for h in manifest["history"]] == ["publish", "publish", "rollback"]
    assert manifest["versions"] == [first.publication_id, second.publication_id]
    live = _catalog_rows(back.catalog, "select distinct publication_id from capacity_supply")
    assert live == [(first.publication_id,)]
    # The newer version is untouched and still readable on its own.
    newer = second.version_dir / "catalog.duckdb"
    assert _catalog_rows(newer, "select max(capacity_units) from capacity_supply") == [(15200.0,)]
    with pytest.raises(ValueError, match="no complete published version"):
        rollback(paths, "20260101T000000Z-abcdef")


def test_connector_views_have_their_readers_shapes(paths: TwinPaths) -> None:
    publication = publish(paths, make_tables(), LINEAGE)
    with duckdb.connect(str(publication.catalog), read_only=True) as con:
        for view in CONNECTOR_VIEWS:
            contract = load_published_contract(view)
            described = con.execute(f"describe {view}").fetchall()
            assert [(r[0], r[1].lower()) for r in described] == [
                (c, s["type"]) for c, s in contract["columns"].items()
            ], view
            key = ", ".join(f'"{k}"' for k in contract["key"])
            dupes = con.execute(
                f"select count(*) from (select {key} from {view} group by all having count(*) > 1)"
            ).fetchone()[0]
            assert dupes == 0, view
        ibp = con.execute(
            'select "VERSIONID", "CAPASUPPLY" from ibp_capasupply'
            " where \"RESID\" = 'L1' and \"PERIODID_TSTAMP\" = timestamp '2026-11-23'"
            ' order by "CAPASUPPLY"'
        ).fetchall()
        assert ibp == [("DOWNSIDE", 6400.0), ("BASELINE", 7200.0), ("UPSIDE", 7600.0)]
        # IBP: line resources, weekly, baseline scenario only → 1 line × 2 weeks × 3 versions.
        assert con.execute('select distinct "RESID" from ibp_capasupply').fetchall() == [("L1",)]
        assert con.execute("select count(*) from ibp_capasupply").fetchone() == (6,)
        kinaxis = con.execute(
            "select * from kinaxis_constraint_available"
            " where \"Scenario\" = 'overtime' and \"EffectiveInDate\" = date '2026-11-30'"
        ).fetchall()
        assert kinaxis == [
            ("L1", "S1", dt.date(2026, 11, 30), dt.date(2026, 12, 7), 7200.0 / 7, "overtime")
        ]
        assert con.execute("select count(*) from kinaxis_constraint_available").fetchone() == (4,)
        measures = con.execute('select distinct "Measure" from o9_resource_capacity order by 1')
        assert [m for (m,) in measures.fetchall()] == [
            "Available Hours P10",
            "Available Hours P50",
            "Available Hours P90",
            "Capacity Units P10",
            "Capacity Units P50",
            "Capacity Units P90",
        ]
        # o9: 3 resources × 2 weeks × 6 measures, baseline only.
        assert con.execute("select count(*) from o9_resource_capacity").fetchone() == (36,)
    # Views resolve inside their own file even when a reader attaches it under another name.
    with duckdb.connect() as con:
        con.execute(f"attach '{publication.catalog}' as planning (read_only)")
        assert con.execute("select count(*) from planning.ibp_capasupply").fetchone() == (6,)


def _poll_catalog(home: str, stop, out) -> None:  # runs in a separate process
    """Open the live catalog read-only over and over until told to stop; report what it saw."""
    root = Path(home) / "published"
    seen, problems, reads = set(), [], 0
    while not stop.is_set():
        try:
            with duckdb.connect(str(root / "catalog.duckdb"), read_only=True) as con:
                ids = set()
                for table in (*PUBLISHED_TABLES, "_publication"):
                    rows = con.execute(f"select distinct publication_id from {table}").fetchall()
                    ids |= {r[0] for r in rows}
                ibp = con.execute("select count(*) from ibp_capasupply").fetchone()[0]
            manifest = json.loads((root / "manifest.json").read_text())
        except Exception as exc:  # any error on open or read is exactly what must not happen
            problems.append(f"{type(exc).__name__}: {exc}")
            continue
        reads += 1
        if len(ids) != 1 or ibp != 6:
            problems.append(f"mixed or partial catalog: {ids}, ibp rows {ibp}")
        seen |= ids
        if not (root / "versions" / manifest["publication_id"] / "catalog.duckdb").exists():
            problems.append(f"manifest names an incomplete version {manifest['publication_id']}")
    out.put({"seen": sorted(seen), "problems": problems, "reads": reads})


@pytest.mark.slow
def test_a_concurrent_reader_only_ever_sees_complete_versions(paths: TwinPaths) -> None:
    first = publish(paths, make_tables(scale=1.0), LINEAGE)
    context = multiprocessing.get_context("spawn")  # a real second process, as a planner's reader
    out, stop = context.Queue(), context.Event()
    reader = context.Process(target=_poll_catalog, args=(str(paths.home), stop, out))
    reader.start()
    published = [first.publication_id]
    try:
        time.sleep(2.0)  # let the reader start polling (spawn imports duckdb)
        for scale in (2.0, 3.0, 4.0):
            published.append(publish(paths, make_tables(scale=scale), LINEAGE).publication_id)
        rollback(paths, first.publication_id)
        time.sleep(0.5)
        stop.set()
        result = out.get(timeout=60)
    finally:
        reader.join(timeout=60)
        if reader.is_alive():
            reader.terminate()
    assert result["problems"] == []
    assert result["reads"] > 10
    assert set(result["seen"]) <= set(published)
    assert len(result["seen"]) >= 2  # it did see switches happen


def test_ensure_publish_inputs_writes_schema_files_with_contract_types(paths: TwinPaths) -> None:
    written = ensure_publish_inputs(paths)
    assert len(written) == len(INPUTS)
    assert ensure_publish_inputs(paths) == []  # idempotent
    capacity = pq.read_schema(paths.lake / "simulation" / "_empty.parquet")
    assert capacity == input_schema("capacity_runs")
    assert not {"publication_id", "model_version", "published_at"} & set(capacity.names)
    assert str(capacity.field("bucket_start").type) == "date32[day]"
    assert str(capacity.field("simulated_at").type) == "timestamp[us]"
    cmap = pq.read_schema(paths.lake / "simulation" / "constraint_map" / "_empty.parquet")
    assert str(cmap.field("rank").type) == "int32"
    risk = pq.read_schema(paths.lake / "ml" / "machine_failure_risk_empty.parquet")
    assert risk.names == [
        c
        for c in load_published_contract("machine_failure_risk")["columns"]
        if c != "publication_id"
    ]
