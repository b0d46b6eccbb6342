"""`twin run`: process everything that has landed through Dagster, so every run shows in the UI.

Batch loads run as one Dagster run per batch (the same partitioned jobs the landing sensor triggers),
two at a time; they write only their own Parquet files, so they never contend for the warehouse.
The KPI refresh then runs as a single Dagster run: dbt is the warehouse's only writer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import dagster as dg

from orchestration.lib import bronze, landing
from twin.paths import TwinPaths

Progress = Callable[[str], None]
# The runs' full event logs are in the Dagster instance (and UI); the terminal gets one line per
# batch from the runner instead of Dagster's event stream.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class BatchRun:
    batch_id: str
    source: str
    file: str
    success: bool
    failed_checks: list[str]
    run_id: str


@dataclass
class RunReport:
    batches: list[BatchRun] = field(default_factory=list)
    kpi_success: bool = False
    kpi_run_id: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        # A failed blocking check on one batch stops that batch's downstream, not the whole twin:
        # the run succeeds when every batch run finished and the KPIs were rebuilt.
        return self.kpi_success and not self.errors


@cache
def _definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def _load_one(source: str, batch_id: str) -> tuple[bool, list[str], str]:
    """Run the ingest job for one batch partition in this process (used by the worker pool)."""
    from orchestration.defs.jobs import ingest_job_name

    job = _definitions().resolve_job_def(ingest_job_name(source))
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        partition_key=batch_id,
        run_config=QUIET,
        raise_on_error=False,
    )
    failed = [
        evaluation.check_name
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    return result.success, failed, result.run_id


def pending_batches(paths: TwinPaths) -> list[landing.LandedBatch]:
    """Archived batches without an audit record: landed but not loaded yet."""
    audited = {record["batch_id"] for record in bronze.read_audit(paths)}
    return [b for b in landing.archived_batches(paths) if b.batch_id not in audited]


def register_partitions(instance: dg.DagsterInstance, batches: list[landing.LandedBatch]) -> None:
    from orchestration.defs.ingest.partitions import BATCH_PARTITIONS

    for source, partitions in BATCH_PARTITIONS.items():
        keys = [b.batch_id for b in batches if b.source == source]
        known = set(instance.get_dynamic_partitions(partitions.name))
        missing = [k for k in keys if k not in known]
        if missing:
            instance.add_dynamic_partitions(partitions.name, missing)


def load_batches(
    batches: list[landing.LandedBatch], *, workers: int = 2, progress: Progress = print
) -> list[BatchRun]:
    runs: list[BatchRun] = []
    if not batches:
        return runs
    # Separate processes: each Dagster run executes in-process, and two of them use both cores.
    with ProcessPoolExecutor(max_workers=workers, initializer=_definitions) as pool:
        futures = [(b, pool.submit(_load_one, b.source, b.batch_id)) for b in batches]
        for done, (batch, future) in enumerate(futures, start=1):
            success, failed, run_id = future.result()
            runs.append(BatchRun(batch.batch_id, batch.source, batch.file, success, failed, run_id))
            if success:
                flag = f"ok, with warnings: {', '.join(failed)}" if failed else "ok"
            else:
                flag = f"blocked by failed check(s): {', '.join(failed) or 'the run failed'}"
            progress(f"  [{done}/{len(batches)}] {batch.source}/{batch.file}: {flag}")
    return runs


@contextmanager
def _stdout_to(log_file: Path) -> Iterator[None]:
    """Send this process's stdout (dbt streams its log there) to a file, at the descriptor level."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    saved = os.dup(1)
    with log_file.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def refresh_kpis(log_file: Path) -> tuple[bool, str]:
    job = _definitions().resolve_job_def("kpi_job")
    with _stdout_to(log_file):
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(), run_config=QUIET, raise_on_error=False
        )
    return result.success, result.run_id


def run_twin(paths: TwinPaths, *, progress: Progress = print) -> RunReport:
    """Claim, load and check every landed file, then rebuild the KPIs."""
    if "DAGSTER_HOME" not in os.environ:
        raise RuntimeError("DAGSTER_HOME must be set before run_twin (the CLI does this)")
    paths.ensure()
    bronze.ensure_lake(paths)
    report = RunReport()
    claimed = landing.claim_landed_files(paths)
    progress(f"claimed {len(claimed)} new landed file(s)")
    batches = pending_batches(paths)
    register_partitions(dg.DagsterInstance.get(), batches)
    progress(f"loading {len(batches)} batch(es)")
    report.batches = load_batches(batches, progress=progress)
    report.errors += [
        f"batch run {r.run_id} for {r.file} failed"
        for r in report.batches
        if not r.success and not r.failed_checks
    ]
    log_file = paths.home / "logs" / "dbt.log"
    progress(f"rebuilding KPIs (dbt build; log: {log_file})")
    report.kpi_success, report.kpi_run_id = refresh_kpis(log_file)
    if not report.kpi_success:
        report.errors.append(
            f"KPI run {report.kpi_run_id} failed: see `twin ui` → Runs for the dbt log"
        )
    return report
