"""The short summary `twin demo` prints: OEE by line, reliability, data quality, where things are."""

from __future__ import annotations

import duckdb

from orchestration.lib.bronze import read_audit
from twin.paths import TwinPaths


def _query(paths: TwinPaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def print_summary(paths: TwinPaths) -> None:
    audit = read_audit(paths)
    by_status: dict[str, int] = {}
    for record in audit:
        by_status[record["status"]] = by_status.get(record["status"], 0) + 1
    print("\n== twinbridge summary ==")
    print(f"batches: {len(audit)} ({', '.join(f'{n} {s}' for s, n in sorted(by_status.items()))})")
    lines = _query(
        paths,
        """
        select line_id, min(date), max(date), avg(availability), avg(performance), avg(quality),
               avg(oee), avg(data_completeness)
        from marts.fct_line_kpis_daily
        where oee is not null
        group by line_id order by line_id
        """,
    )
    print("\nOEE by line (mean over production days)")
    print(
        f"  {'line':6} {'from':10}  {'to':10}  {'avail':>6} {'perf':>6} {'qual':>6} {'OEE':>6} {'data':>6}"
    )
    for line, first, last, a, p, q, oee, completeness in lines:
        print(
            f"  {line:6} {first!s:10}  {last!s:10}  {a:6.1%} {p:6.1%} {q:6.1%} {oee:6.1%} {completeness:6.1%}"
        )
    failures = _query(
        paths,
        """
        select machine_id, count(*) as failures, round(sum(repair_hours), 1) as repair_hours,
               string_agg(distinct failure_mode, ', ') as modes
        from marts.fct_failure_events
        group by machine_id order by failures desc, repair_hours desc limit 5
        """,
    )
    print("\nMachines with the most corrective failures")
    for machine, count, hours, modes in failures:
        print(f"  {machine:8} {count:3d} failures, {hours:6.1f} h repair  ({modes})")
    print("\nWhere things are")
    print(f"  warehouse (DuckDB, read-only for readers): {paths.warehouse}")
    print(f"  lake (bronze Parquet):                    {paths.lake}")
    print("  audit of every landed file:               twin batches")
    print("  Dagster and MLflow UIs:                   twin ui   (http://127.0.0.1:3000, :5000)")
