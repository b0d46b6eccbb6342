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
class StageRun:
    """One Dagster run of a stage after ingest (KPIs, model, scenarios, publication)."""

    name: str
    success: bool
    run_id: str
    blocked_by: list[str]  # failed blocking checks (ERROR): the stage's downstream did not run
    warnings: list[str]  # failed checks with WARN severity
    materialized: set[str]


@dataclass
class RunReport:
    batches: list[BatchRun] = field(default_factory=list)
    stages: list[StageRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        # A failed blocking check stops what depends on it (a batch's load, a model's promotion);
        # it is reported, not an error. Errors are runs that failed for any other reason.
        return bool(self.stages) and not self.errors

    def stage(self, name: str) -> StageRun | None:
        return next((s for s in self.stages if s.name == name), None)


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


def run_stage(job_name: str, log_file: Path) -> StageRun:
    """Run one job in this process against the instance; its stdout (dbt's log) goes to log_file."""
    job = _definitions().resolve_job_def(job_name)
    with _stdout_to(log_file):
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(), run_config=QUIET, raise_on_error=False
        )
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    blocked = [e.check_name for e in failed if e.severity == dg.AssetCheckSeverity.ERROR]
    warnings = [e.check_name for e in failed if e.severity != dg.AssetCheckSeverity.ERROR]
    materialized = {
        event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
    }
    return StageRun(job_name, result.success, result.run_id, blocked, warnings, materialized)


def refresh_kpis(log_file: Path) -> tuple[bool, str]:
    stage = run_stage("kpi_job", log_file)
    return stage.success, stage.run_id


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
    log_file = paths.home / "logs" / "runs.log"
    for job_name, what in STAGES:
        progress(f"{what} ...")
        stage = run_stage(job_name, log_file)
        report.stages.append(stage)
        _report_stage(stage, report, progress)
        if job_name == "kpi_job" and not stage.success:
            break  # nothing downstream can be trusted without the KPIs and features
    if report.stage("failure_model_retrain_job") and "ml/machine_failure_risk_scores" not in (
        report.stage("failure_model_retrain_job").materialized
    ):
        # The gate refused the challenger, so the run stopped before scoring: score with the
        # current champion (or the reliability fallback) anyway, the planners need today's risk.
        stage = run_stage("failure_risk_scoring_job", log_file)
        report.stages.append(stage)
        _report_stage(stage, report, progress)
    return report


# Stages after ingest, in order: (job, what the terminal says while it runs).
STAGES = (
    ("kpi_job", "rebuilding KPIs and features (dbt build)"),
    ("failure_model_retrain_job", "retraining the failure-risk model (MLflow), gate, scoring"),
)


def _report_stage(stage: StageRun, report: RunReport, progress: Progress) -> None:
    if stage.blocked_by:
        progress(f"  blocked by failed check(s): {', '.join(stage.blocked_by)}")
    if stage.warnings:
        progress(f"  warnings: {', '.join(stage.warnings)}")
    if not stage.success and not stage.blocked_by:
        report.errors.append(
            f"{stage.name} run {stage.run_id} failed: see the Dagster UI (twin ui) → Runs, "
            f"or {stage.name}'s log"
        )
