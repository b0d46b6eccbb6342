"""`twin run`: process everything that has landed through Dagster, so every run shows in the UI.

Stages, each a Dagster run against the twin's instance (DAGSTER_HOME):
1. batch loads: one run per landing burst, as the landing sensor triggers it (every file landed since
   the last run is one burst);
2. KPIs and features (dbt is the warehouse's only writer, in the "warehouse" pool);
3. the failure-risk model: retrain, gate, promote, score;
4. the scenario batch, one run per scenario partition, two at a time;
5. the publication for planning systems.
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

from twin import settings
from twin.ingest import batch_load, bursts, landing
from twin.paths import TwinPaths
from twin.publish.inputs import ensure_publish_inputs

Progress = Callable[[str], None]
# The runs' full event logs are in the Dagster instance (and UI); the terminal gets one line per
# run from the runner instead of Dagster's event stream.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
WORKERS = 2  # the machines have two cores


@dataclass
class StageRun:
    """One Dagster run: its outcome, failed checks and what it materialized."""

    name: str
    partition: str | None
    success: bool
    run_id: str
    blocked_by: list[str]  # failed blocking checks (ERROR): what depends on them did not run
    warnings: list[str]  # failed checks with WARN severity
    materialized: set[str]

    def describe(self) -> str:
        if self.blocked_by:
            return f"blocked by failed check(s): {', '.join(self.blocked_by)}"
        if not self.success:
            return f"FAILED (run {self.run_id[:8]}: see the Dagster UI)"
        return f"ok, with warnings: {', '.join(self.warnings)}" if self.warnings else "ok"


@dataclass
class RunReport:
    batches: list[BatchResult] = field(default_factory=list)
    stages: list[StageRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        # A failed blocking check stops what depends on it (a batch's load, a model's promotion);
        # it is reported, not an error. Errors are runs that failed for any other reason.
        return bool(self.stages) and not self.errors

    def stage(self, name: str) -> StageRun | None:
        return next((s for s in self.stages if s.name == name), None)


def _definitions() -> dg.Definitions:
    """The code location as the environment defines it now: loaded once per twin (home, plant,
    scenarios, registry settings), so a process that runs two twins never mixes their resources."""
    return _definitions_for(
        str(settings.twin_home()),
        str(settings.plant_file()),
        str(settings.scenarios_dir()),
        str(settings.mlflow_tracking_uri()),
        settings.model_review_required(),
    )


@cache
def _definitions_for(*_environment: object) -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


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


@cache
def _instance(dagster_home: Path) -> dg.DagsterInstance:
    """The instance in ``dagster_home``, one per process (run records, event log, schedules)."""
    return dg.DagsterInstance.from_config(str(dagster_home))


def run_stage(
    job_name: str, dagster_home: Path, log_file: Path, partition_key: str | None = None
) -> StageRun:
    """Run one job in this process against the instance in ``dagster_home``; its stdout (dbt's
    log) goes to log_file."""
    from orchestration.cli.celery_run import execute_on_workers
    from orchestration.defs.executors import runs_on_celery

    job = _definitions().resolve_job_def(job_name)
    instance = _instance(dagster_home)
    with _stdout_to(log_file):
        if runs_on_celery(job):  # TWIN_CELERY_BROKER: the steps go to `twin workers`
            result = execute_on_workers(
                job_name, instance, partition_key=partition_key, run_config=QUIET
            )
        else:
            result = job.execute_in_process(
                instance=instance,
                partition_key=partition_key,
                run_config=QUIET,
                raise_on_error=False,
            )
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    blocked = [e.check_name for e in failed if e.severity == dg.AssetCheckSeverity.ERROR]
    warnings = [e.check_name for e in failed if e.severity != dg.AssetCheckSeverity.ERROR]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    return StageRun(
        job_name, partition_key, result.success, result.run_id, blocked, warnings, materialized
    )


def run_partitions(
    job_name: str,
    keys: list[str],
    labels: list[str],
    dagster_home: Path,
    log_file: Path,
    progress: Progress,
) -> list[StageRun]:
    """One run per partition, WORKERS at a time in separate processes (each uses one core)."""
    runs: list[StageRun] = []
    if not keys:
        return runs
    with ProcessPoolExecutor(max_workers=WORKERS, initializer=_definitions) as pool:
        futures = [pool.submit(run_stage, job_name, dagster_home, log_file, key) for key in keys]
        for done, (label, future) in enumerate(zip(labels, futures, strict=True), start=1):
            run = future.result()
            runs.append(run)
            progress(f"  [{done}/{len(keys)}] {label}: {run.describe()}")
    return runs


@dataclass
class BatchResult:
    """One landed file's outcome, from its audit record (`twin batches` shows the same)."""

    file: str
    source: str
    status: str
    warnings: list[str]

    @property
    def success(self) -> bool:
        return self.status != "quarantined"


def _batch_result(record: dict) -> BatchResult:
    completeness = (record.get("checks") or {}).get("completeness") or {}
    warned = record["status"] != "quarantined" and completeness.get("passed") is False
    return BatchResult(
        record["file"],
        record["source"],
        record["status"],
        ["historian_tag_completeness"] if warned else [],
    )


def pending_bursts(paths: TwinPaths) -> list[bursts.Burst]:
    """Landing bursts with a batch not loaded yet; what is archived but in no burst becomes one."""
    bursts.open_burst(paths)
    audited = {record["batch_id"] for record in batch_load.read_audit(paths)}
    return [b for b in bursts.list_bursts(paths) if not set(b.batch_ids) <= audited]


def register_bursts(instance: dg.DagsterInstance, pending: list[bursts.Burst]) -> None:
    from orchestration.defs.ingest.partitions import LANDING_BURSTS

    known = set(instance.get_dynamic_partitions(LANDING_BURSTS.name))
    missing = [b.burst_id for b in pending if b.burst_id not in known]
    if missing:
        instance.add_dynamic_partitions(LANDING_BURSTS.name, missing)


def load_bursts(
    paths: TwinPaths,
    pending: list[bursts.Burst],
    dagster_home: Path,
    log_file: Path,
    progress: Progress = print,
) -> tuple[list[StageRun], list[BatchResult]]:
    """One load run per burst (every source's files in it); the outcome of each file."""
    from orchestration.defs.ingest.jobs import INGEST_JOB

    runs = [run_stage(INGEST_JOB, dagster_home, log_file, burst.burst_id) for burst in pending]
    wanted = {batch_id for burst in pending for batch_id in burst.batch_ids}
    results = [_batch_result(r) for r in batch_load.read_audit(paths) if r["batch_id"] in wanted]
    for done, result in enumerate(results, start=1):
        detail = f"{result.status}" + (
            f", warning: {result.warnings[0]}" if result.warnings else ""
        )
        progress(f"  [{done}/{len(results)}] {result.source}/{result.file}: {detail}")
    return runs, results


def refresh_kpis(dagster_home: Path, log_file: Path) -> tuple[bool, str]:
    stage = run_stage("kpi_job", dagster_home, log_file)
    return stage.success, stage.run_id


def _record(report: RunReport, runs: list[StageRun], progress: Progress) -> None:
    for run in runs:
        report.stages.append(run)
        if run.partition is None:
            progress(f"  {run.describe()}")
        if not run.success and not run.blocked_by:
            report.errors.append(
                f"{run.name} run {run.run_id} failed: see the Dagster UI (twin ui) → Runs"
            )


def run_twin(paths: TwinPaths, dagster_home: Path, *, progress: Progress = print) -> RunReport:
    """Claim, load and check every landed file, then every stage down to the publication, as
    runs of the instance in ``dagster_home`` (its dagster.yaml written: the CLI does this)."""
    paths.ensure()
    batch_load.ensure_lake(paths)
    ensure_publish_inputs(paths)
    log_file = paths.home / "logs" / "runs.log"
    report = RunReport()
    claimed = landing.claim_landed_files(paths)
    progress(f"claimed {len(claimed)} new landed file(s)")
    pending = pending_bursts(paths)
    register_bursts(_instance(dagster_home), pending)
    count = sum(len(b.batch_ids) for b in pending)
    progress(f"loading {count} batch(es) in {len(pending)} load run(s)")
    loads, report.batches = load_bursts(paths, pending, dagster_home, log_file, progress)
    report.errors += [
        f"load run {r.run_id} for landing burst {r.partition} failed"
        for r in loads
        if not r.success and not r.blocked_by
    ]

    progress("rebuilding KPIs and features (dbt build) ...")
    _record(report, [run_stage("kpi_job", dagster_home, log_file)], progress)
    if report.errors:
        return report  # nothing downstream can be trusted without the KPIs and features

    progress("retraining the failure-risk model (MLflow), promotion gate, scoring ...")
    ml = run_stage("failure_model_retrain_job", dagster_home, log_file)
    _record(report, [ml], progress)
    if "ml/machine_failure_risk_scores" not in ml.materialized:
        # The gate refused the challenger, so the run stopped before scoring: score with the
        # current champion (or the reliability fallback) anyway; the planners need today's risk.
        _record(report, [run_stage("failure_risk_scoring_job", dagster_home, log_file)], progress)

    scenario_ids = _scenario_ids()
    progress(f"simulating {len(scenario_ids)} scenario(s) ...")
    _record(
        report,
        run_partitions(
            "scenario_batch_job", scenario_ids, scenario_ids, dagster_home, log_file, progress
        ),
        progress,
    )
    if report.errors:
        return report  # a publication without every scenario would mislead the planners

    progress("publishing the capacity tables (contracts first) ...")
    publication = run_stage("publication_job", dagster_home, log_file)
    _record(report, [publication], progress)
    if "published/planning_tables" not in publication.materialized:
        reason = (
            f"contract check(s) failed: {', '.join(publication.blocked_by)}"
            if publication.blocked_by
            else f"run {publication.run_id} failed"
        )
        report.errors.append(f"nothing was published: {reason} (details: twin ui → Runs)")
    return report


def _scenario_ids() -> list[str]:
    job = _definitions().resolve_job_def("scenario_batch_job")
    return list(job.partitions_def.get_partition_keys())
