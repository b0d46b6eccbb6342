"""The short summary `twin demo` prints: OEE by line, failure risk, capacity, where things are."""

from __future__ import annotations

import duckdb

from twin.ingest.batch_load import read_audit
from twin.paths import TwinPaths


def _query(database: str, sql: str) -> list[tuple]:
    with duckdb.connect(database, read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _model_quality(paths: TwinPaths) -> str:
    from ml.registry import FailureModelRegistry

    registry = FailureModelRegistry(
        paths.mlflow_tracking_uri, artifact_root=str(paths.mlflow_artifacts)
    )
    version = registry.champion_version() or registry.challenger_version()
    if version is None:
        return "no trained model yet (too few failures): risk comes from the MTBF fallback"
    m = registry.version_metrics(version)
    role = "champion" if version == registry.champion_version() else "challenger (not promoted)"
    return (
        f"failure_model v{version} ({role}) on held-out weeks: event recall "
        f"{m.get('event_recall', float('nan')):.0%}, precision {m.get('episode_precision', float('nan')):.0%}, "
        f"mean lead time {m.get('mean_lead_time_h', float('nan')):.0f} h, "
        f"{m.get('n_test_failures', 0):.0f} test failures"
    )


def print_summary(paths: TwinPaths) -> None:
    audit = read_audit(paths)
    by_status: dict[str, int] = {}
    for record in audit:
        by_status[record["status"]] = by_status.get(record["status"], 0) + 1
    print("\n== twinbridge summary ==")
    print(f"batches: {len(audit)} ({', '.join(f'{n} {s}' for s, n in sorted(by_status.items()))})")
    warehouse = str(paths.warehouse)
    print("\nOEE by line (mean over production days)")
    print(f"  {'line':6} {'avail':>6} {'perf':>6} {'qual':>6} {'OEE':>6} {'data':>6}")
    for line, a, p, q, oee, completeness in _query(
        warehouse,
        """
        select line_id, avg(availability), avg(performance), avg(quality), avg(oee),
               avg(data_completeness)
        from marts.fct_line_kpis_daily where oee is not null group by line_id order by line_id
    """,
    ):
        # a line without sensors has no completeness to state (not applicable, DESIGN §3.2)
        measured = "   n/a" if completeness is None else f"{completeness:6.1%}"
        print(f"  {line:6} {a:6.1%} {p:6.1%} {q:6.1%} {oee:6.1%} {measured}")

    print("\nFailure risk")
    print(f"  {_model_quality(paths)}")
    catalog = paths.published / "catalog.duckdb"
    if not catalog.exists():
        print("\nnothing published yet")
        return
    db = str(catalog)
    for machine, p, h50, mode in _query(
        db,
        """
        select machine_id, p_failure_72h, hours_to_failure_p50, failure_mode
        from machine_failure_risk order by p_failure_72h desc limit 5
    """,
    ):
        print(f"  {machine:8} P(fail ≤72 h) {p:5.0%}   hours to failure p50 {h50:6.0f}   {mode}")

    print("\nPublished capacity, baseline scenario, next 4 weeks (units: P10 / P50 / P90)")
    rows = _query(
        db,
        """
        select line_id, bucket_start, quantile, capacity_units from capacity_supply
        where resource_level = 'line' and bucket_grain = 'week' and scenario_id = 'baseline'
          and bucket_start < (select min(bucket_start) from capacity_supply) + interval 28 day
        order by line_id, bucket_start
    """,
    )
    table: dict[tuple, dict[str, float]] = {}
    for line, week, quantile, units in rows:
        table.setdefault((line, week), {})[quantile] = units
    for (line, week), q in table.items():
        print(
            f"  {line:4} week of {week}:  {q.get('p10', 0):7.0f} / {q.get('p50', 0):7.0f} / "
            f"{q.get('p90', 0):7.0f}"
        )

    print("\nTop bottlenecks (baseline, share of simulated time as the line's constraint)")
    for line, machine, share in _query(
        db,
        """
        select line_id, machine_id, avg(bottleneck_share) as share from constraint_map
        where scenario_id = 'baseline' and bucket_grain = 'week'
        group by line_id, machine_id qualify row_number() over (partition by line_id order by share desc) = 1
        order by line_id
    """,
    ):
        print(f"  {line:4} {machine:8} {share:5.0%}")

    publication = _query(db, "select distinct publication_id from capacity_supply")[0][0]
    print("\nWhere things are")
    print(f"  published tables (read-only): {catalog}  (publication {publication})")
    print(
        f"  manifest and Parquet files:   {paths.published / 'manifest.json'}, {paths.published / 'versions'}"
    )
    print(f"  capacity report:              {paths.published / 'report.html'}")
    print(f"  warehouse (KPIs, features):   {paths.warehouse}")
    print("  audit of every landed file:   twin batches")
    print(
        "  Dagster and MLflow UIs:       twin ui   (http://127.0.0.1:3000 and http://127.0.0.1:5000)"
    )
