"""The `twin` command line (DESIGN §3.1): generate, run, demo, check, batches, ui.

Errors a user can cause (a bad plant model, a missing folder, a port in use) end in one clear
sentence and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

from orchestration.cli.errors import UserError
from orchestration.cli.instance_config import write_instance_config
from twin import settings
from twin.paths import TwinPaths, plant_path
from twin.plant.model import PlantModelError, load_plant

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = REPO_ROOT / "dbt_project"
DEMO_MARKER = ".twin-demo"
# 90 days (the seed playbook's history): with the virtual plant's failure rate the last 35 % (the
# failure model's held-out period) holds ~60 failures to judge it on, and the training period
# enough of each mode to learn it; 60 days passed the default gate on about half the seed x
# start-date runs of bench/failure_model.py, 28 days held 5 failures. ~3 s of `twin demo` per day.
DEMO_DAYS = 90
# the demo lands a demand plan for the 13 whole weeks the scenarios simulate after the data
DEMO_PLAN_WEEKS = 13


def _prepare_environment(paths: TwinPaths) -> Path:
    """Set up this twin's Dagster instance (dagster.yaml, the dbt manifest); its folder.

    Nothing is written to this process's environment: Dagster runs in this process get the
    instance explicitly, the processes the CLI starts get ``child_environment``.
    """
    dagster_home = settings.dagster_home(paths.home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    # the repo's dagster.yaml, plus PostgreSQL storage while TWIN_DAGSTER_POSTGRES is set
    write_instance_config(dagster_home)
    _ensure_dbt_manifest()
    return dagster_home


def child_environment(paths: TwinPaths, dagster_home: Path) -> dict[str, str]:
    """The environment of the processes the CLI starts (the UIs, Celery workers): this one's,
    pointing every component at the same TWIN_HOME and instance by absolute paths (a child's
    working directory may differ); no usage statistics leave the plant (MLflow's server and
    client telemetry, dbt's), no progress bars in their logs."""
    return {
        **os.environ,
        "TWIN_HOME": str(paths.home),
        "DAGSTER_HOME": str(dagster_home),
        "DO_NOT_TRACK": "true",  # MLflow reads only "true"; dbt also "1"
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }


def _ensure_dbt_manifest() -> None:
    """Dagster loads dbt models from the manifest; parse the project once if it is missing."""
    if (DBT_DIR / "target" / "manifest.json").exists():
        return
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt),
        "--no-use-colors",
        "parse",
        "--quiet",
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
    ]
    if subprocess.run(command, check=False).returncode != 0:
        raise UserError("dbt could not parse dbt_project/; run `make manifest` to see why")


def _plant():
    try:
        return load_plant(plant_path())
    except PlantModelError as error:
        raise UserError(
            f"{error}. Fix the plant model or point TWIN_PLANT at a valid one."
        ) from None


def _checked() -> None:
    """The `twin check` of the setup, before any work: its problem lines, then exit code 2."""
    from twin.check import check_setup

    report = check_setup(plant_path())
    if not report.ok:
        for problem in report.problems:
            print(problem, file=sys.stderr)
        raise UserError(
            f"{report.summary()} in the plant model (TWIN_PLANT), the scenarios (TWIN_SCENARIOS) "
            "or the configuration (TWIN_ML_CONFIG), listed above; fix them, then `twin check` "
            "confirms"
        )


def cmd_check(args: argparse.Namespace) -> int:
    from twin.check import check_setup

    report = check_setup(plant_path())
    for problem in report.problems:
        print(problem)
    print(report.summary(), file=sys.stderr if report.problems else sys.stdout)
    return 0 if report.ok else 1


def cmd_generate(args: argparse.Namespace) -> int:
    from twin.virtual_plant.generator import generate

    paths = TwinPaths.from_env().ensure()
    start = dt.date.fromisoformat(args.start) if args.start else None
    report = generate(
        _plant(),
        paths.landing,
        days=args.days,
        start=start,
        seed=args.seed,
        progress=lambda message: print(message, flush=True),
    )
    print(report.summary() if hasattr(report, "summary") else report)
    weeks = getattr(args, "demand_plan", 0)
    if weeks:
        from twin.virtual_plant.demand_plan import made_per_shift_hour, write_demand_plan

        plant = _plant()
        # the plan covers the whole weeks after the data: the horizon the scenarios simulate;
        # it is sized on what each line made per shift hour in the days just generated
        monday = report.last_day + dt.timedelta(days=7 - report.last_day.weekday())
        rates = made_per_shift_hour(
            plant, report.line_good_units, report.first_day, report.last_day
        )
        path = write_demand_plan(plant, paths.landing, monday, weeks, args.seed, rates)
        print(f"demand plan: {weeks} weeks from {monday} in {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    _checked()
    paths = TwinPaths.from_env()
    if not paths.home.exists():
        raise UserError(
            f"TWIN_HOME {paths.home} does not exist: run `twin generate` or `twin demo` first"
        )
    _plant()
    dagster_home = _prepare_environment(paths)
    from orchestration.cli.runner import run_twin

    report = run_twin(paths, dagster_home, progress=lambda message: print(message, flush=True))
    blocked = [r for r in report.batches if not r.success]
    warned = [r for r in report.batches if r.success and r.warnings]
    print(
        f"{len(report.batches)} batch(es) processed: {len(blocked)} blocked by a failed check, "
        f"{len(warned)} with warnings (details: `twin batches`, the Dagster UI)"
    )
    if not report.success:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        return 1
    print("done: " + ", ".join(f"{stage.name} ({stage.run_id[:8]})" for stage in report.stages))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.cli.summary import print_summary

    _checked()
    paths = TwinPaths.from_env()
    if paths.home.exists() and any(paths.home.iterdir()):
        # Only a previous demo's home is wiped without asking; anything else may be a plant's data.
        if not (args.force or (paths.home / DEMO_MARKER).exists()):
            raise UserError(
                f"TWIN_HOME {paths.home} is not empty and not a demo home: set TWIN_HOME "
                "to a new folder, or pass --force to wipe it"
            )
        shutil.rmtree(paths.home)
    paths.ensure()
    (paths.home / DEMO_MARKER).write_text(
        "created by `twin demo`; the next demo may wipe this folder\n"
    )
    start = dt.date.today() - dt.timedelta(days=args.days)
    print(f"generating {args.days} days of demo plant data into {paths.landing}", flush=True)
    generate_args = argparse.Namespace(
        days=args.days, start=start.isoformat(), seed=args.seed, demand_plan=DEMO_PLAN_WEEKS
    )
    cmd_generate(generate_args)
    code = cmd_run(args)
    if code == 0:
        print_summary(paths)
    return code


def cmd_batches(args: argparse.Namespace) -> int:
    from twin.ingest.audit import PUBLIC_KEYS
    from twin.ingest.batch_load import read_audit

    paths = TwinPaths.from_env()
    records = [{key: record.get(key) for key in PUBLIC_KEYS} for record in read_audit(paths)]
    if args.json:
        print(json.dumps(records, indent=2, default=str))
        return 0
    if not records:
        print(f"no batches under {paths.home} yet")
        return 0
    print(
        f"{'batch':12}  {'source':14}  {'status':18}  {'in':>9}  {'loaded':>9}  {'rejected':>8}  file / reason"
    )
    for r in records:
        print(
            f"{r['batch_id'][:12]}  {r['source']:14}  {r['status']:18}  {r['rows_in']:>9}  "
            f"{r['rows_loaded']:>9}  {r['rows_rejected']:>8}  {r['file']}"
            + (f"  ({r['reason']})" if r["reason"] else "")
        )
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from twin.publish.versions import list_versions, read_manifest, rollback

    paths = TwinPaths.from_env()
    versions = list_versions(paths)
    if args.rollback:
        if args.rollback not in versions:
            raise UserError(
                f"no publication {args.rollback!r} under {paths.published}; "
                "`twin publish --list` shows the versions"
            )
        publication = rollback(paths, args.rollback)
        print(
            f"catalog.duckdb now serves {publication.publication_id} "
            f"(published {publication.published_at})"
        )
        return 0
    manifest = read_manifest(paths)
    current = manifest.get("publication_id") if manifest else None
    if not versions:
        print(f"nothing published under {paths.published} yet (twin run publishes)")
    for version in versions:
        print(("* " if version == current else "  ") + version)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from orchestration.cli.ui import serve

    _checked()
    paths = TwinPaths.from_env().ensure()
    _plant()
    env = child_environment(paths, _prepare_environment(paths))
    return serve(paths, port=args.port, mlflow_port=args.mlflow_port, env=env)


def cmd_workers(args: argparse.Namespace) -> int:
    from orchestration.cli.workers import serve

    _checked()
    paths = TwinPaths.from_env().ensure()
    env = child_environment(paths, _prepare_environment(paths))
    return serve(args.count, paths.home / "logs", lambda line: print(line, flush=True), env=env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin", description="twinbridge: factory digital twin for S&OP"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    generate = sub.add_parser("generate", help="write N days of virtual-plant landing files")
    generate.add_argument("--days", type=int, required=True)
    generate.add_argument(
        "--start", help="first day (YYYY-MM-DD); default: continue, or end yesterday"
    )
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument(
        "--demand-plan",
        type=int,
        default=0,
        metavar="WEEKS",
        help="also land a demand plan for the WEEKS whole weeks after the last day",
    )
    generate.set_defaults(func=cmd_generate)

    run = sub.add_parser(
        "run", help="process everything that has landed, end to end, through Dagster"
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate sample data into a fresh TWIN_HOME and run it")
    demo.add_argument("--days", type=int, default=DEMO_DAYS)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--force", action="store_true", help="wipe a non-empty TWIN_HOME first")
    demo.set_defaults(func=cmd_demo)

    check = sub.add_parser(
        "check",
        help="validate the plant model, scenarios and configuration against each other",
    )
    check.set_defaults(func=cmd_check)

    batches = sub.add_parser("batches", help="the audit of every landed file")
    batches.add_argument("--json", action="store_true")
    batches.set_defaults(func=cmd_batches)

    publish = sub.add_parser("publish", help="list published versions, or switch back to one")
    group = publish.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true", help="list versions (* = current)")
    group.add_argument("--rollback", metavar="VERSION", help="make VERSION current again")
    publish.set_defaults(func=cmd_publish)

    ui = sub.add_parser("ui", help="start the Dagster webserver + daemon and the MLflow UI")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--mlflow-port", type=int, default=5000)
    ui.set_defaults(func=cmd_ui)

    workers = sub.add_parser(
        "workers",
        help="run Celery workers for the scenario batch and batch loads (TWIN_CELERY_BROKER)",
    )
    workers.add_argument("--count", type=int, default=2, help="worker processes (default 2)")
    workers.set_defaults(func=cmd_workers)

    report = sub.add_parser("report", help="where the capacity report is; --network: all sites")
    report.add_argument(
        "--network", action="store_true", help="build it for every site in TWIN_PUBLISH_POSTGRES"
    )
    report.add_argument("--out", type=Path, help="network report file (default: under TWIN_HOME)")
    report.set_defaults(func=cmd_report)
    return parser


def cmd_report(args: argparse.Namespace) -> int:
    from twin.publish.postgres.connection import PostgresPublicationError
    from twin.publish.postgres.network import default_target, write_network_report
    from twin.publish.report.page import REPORT_NAME
    from twin.settings import publish_postgres_url

    paths = TwinPaths.from_env()
    if not args.network:
        local = paths.published / REPORT_NAME
        if not local.is_file():
            raise UserError(f"no capacity report under {paths.published} yet (twin run publishes)")
        print(local)
        return 0
    url = publish_postgres_url()
    if url is None:
        raise UserError("the network report reads PostgreSQL: set TWIN_PUBLISH_POSTGRES first")
    target = args.out or default_target(paths.home)
    try:
        network = write_network_report(url, target)
    except PostgresPublicationError as error:
        raise UserError(str(error).rstrip(".")) from None
    print(f"network report for {len(network.site_ids)} sites: {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Dagster flags beta parameters on every definition load; they say nothing to an operator.
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    warnings.filterwarnings("ignore", message=".*is currently in preview.*")
    try:
        return args.func(args)
    except UserError as error:
        print(f"twin: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
