"""The short summary `twin demo` prints: OEE by line, failure risk, capacity, where things are."""

from __future__ import annotations

import duckdb

from twin.ingest.batch_load import read_audit
from twin.paths import TwinPaths

PLAN_ROWS_SHOWN = 8  # the worst line-weeks of the demand plan; the rest are in the table


def _query(database: str, sql: str) -> list[tuple]:
    with duckdb.connect(database, read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _pct(metrics: dict[str, float], name: str) -> str:
    value = metrics.get(name)
    return "n/a" if value is None or value != value else f"{value:.0%}"


def _model_quality(paths: TwinPaths) -> list[str]:
    """Which model scores the machines, and how it did on its held-out weeks (from MLflow)."""
    from ml.registry import FailureModelRegistry

    registry = FailureModelRegistry(
        paths.mlflow_tracking_uri, artifact_root=str(paths.mlflow_artifacts)
    )
    champion = registry.champion_version()
    version = champion or registry.challenger_version()
    if version is None:
        return ["no trained model yet (too few failures): risk comes from the MTBF fallback"]
    m = registry.version_metrics(version)
    if version == champion:
        role = "champion: passed the promotion gate"
    else:
        role = "challenger, refused by the promotion gate: risk comes from the fallback"
    n = m.get("n_test_failures", 0.0)
    silent = m.get("n_test_failures_no_precursor", 0.0)
    lines = [
        f"failure_model v{version} ({role})",
        f"held out: {n:.0f} failures, {n - silent:.0f} with a precursor: event recall "
        f"{_pct(m, 'event_recall')}, episode precision {_pct(m, 'episode_precision')}, mean lead "
        f"time {m.get('mean_lead_time_h', float('nan')):.0f} h, PR-AUC "
        f"{m.get('pr_auc', float('nan')):.2f}",
    ]
    if silent:
        lines.append(
            f"{silent:.0f} failures of modes without precursor (plant model: failure_modes) "
            f"reported apart: {m.get('no_precursor_detected', 0.0):.0f} flagged, recall over all "
            f"failures {_pct(m, 'event_recall_all')}"
        )
    return lines


def plan_at_risk(db: str) -> list[str]:
    """The baseline's line-weeks of the demand plan at risk or infeasible, and what the best other
    scenario does about each (from ``capacity_feasibility``)."""
    try:  # a catalog published before capacity_feasibility existed has no such table
        rows = _query(
            db,
            """
            with base as (
                select * from capacity_feasibility
                where scenario_id = 'baseline' and status <> 'feasible'
            ), best as (
                select line_id, bucket_start, scenario_id, p_meet_demand, status
                from capacity_feasibility where scenario_id <> 'baseline'
                qualify row_number() over (
                    partition by line_id, bucket_start order by p_meet_demand desc, scenario_id
                ) = 1
            )
            select base.plan_version, base.line_id, base.bucket_start, base.demand_units,
                   base.capacity_units_p50, base.p_meet_demand, base.status,
                   best.scenario_id, best.p_meet_demand, best.status
            from base left join best using (line_id, bucket_start)
            order by base.p_meet_demand, base.line_id, base.bucket_start
        """,
        )
        planned = _query(db, "select count(*) from capacity_feasibility")[0][0]
    except duckdb.CatalogException:
        return []
    if not planned:
        return ["\nDemand plan: none landed (landing/demand_plan/, data_contracts/README.md)"]
    if not rows:
        return ["\nDemand plan: every week feasible in the baseline scenario"]
    infeasible = sum(r[6] == "infeasible" for r in rows)
    out = [
        f"\nDemand plan {rows[0][0]}: {infeasible} line-weeks infeasible, "
        f"{len(rows) - infeasible} at risk in the baseline scenario; the worst "
        "(demand vs P50, P(meet)) and the best other scenario"
    ]
    for _, line, week, demand, p50, p, status, alt, alt_p, alt_status in rows[:PLAN_ROWS_SHOWN]:
        better = (
            f"{alt}: {alt_p:.0%} ({alt_status.replace('_', ' ')})" if alt else "no other scenario"
        )
        out.append(
            f"  {line:4} week of {week}: {demand:7.0f} vs {p50:7.0f}  {p:4.0%} "
            f"{status.replace('_', ' '):10}  -> {better}"
        )
    if len(rows) > PLAN_ROWS_SHOWN:
        out.append(f"  ... and {len(rows) - PLAN_ROWS_SHOWN} more: table capacity_feasibility")
    return out


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
    for line in _model_quality(paths):
        print(f"  {line}")
    catalog = paths.published / "catalog.duckdb"
    if not catalog.exists():
        print("\nnothing published yet")
        return
    db = str(catalog)
    for (published_by,) in _query(db, "select distinct model_version from machine_failure_risk"):
        print(f"  published risk from: {published_by}")
    for machine, p, h50, mode in _query(
        db,
        """
        select machine_id, p_failure_72h, hours_to_failure_p50, failure_mode
        from machine_failure_risk order by p_failure_72h desc limit 5
    """,
    ):
        print(f"  {machine:8} P(fail ≤72 h) {p:5.0%}   hours to failure p50 {h50:6.0f}   {mode}")

    print(
        "\nPublished capacity, baseline scenario, from the last data time (units: P10 / P50 / P90)"
    )
    rows = _query(
        db,
        """
        select line_id, bucket_start, quantile, capacity_units, is_partial
        from capacity_supply
        where resource_level = 'line' and bucket_grain = 'week' and scenario_id = 'baseline'
          and bucket_start < (select min(bucket_start) from capacity_supply) + interval 28 day
        order by line_id, bucket_start
    """,
    )
    table: dict[tuple, dict[str, float]] = {}
    for line, week, quantile, units, partial in rows:
        table.setdefault((line, week, partial), {})[quantile] = units
    for (line, week, partial), q in table.items():
        # the first week is the rest of the week of the last data: say so, or it reads as a dip
        label = f"rest of the week from {week}" if partial else f"week of {week}"
        print(
            f"  {line:4} {label}:  {q.get('p10', 0):7.0f} / {q.get('p50', 0):7.0f} / "
            f"{q.get('p90', 0):7.0f}"
        )

    try:  # a catalog published before prediction_effect existed has no such table
        effect = _query(
            db,
            """
            select line_id, p50_difference_units, p50_difference_share from prediction_effect
            qualify row_number() over (partition by line_id order by bucket_start) = 1
            order by line_id
        """,
        )
    except duckdb.CatalogException:
        effect = []
    if effect:
        print("\nWhat the failure prediction changed in the first week (P50 vs. history-only)")
        for line, units, share in effect:
            change = f"{share:+.1%}" if share is not None else "n/a"
            print(f"  {line:4} {units:+8.0f} units ({change})")

    for line in plan_at_risk(db):
        print(line)

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
