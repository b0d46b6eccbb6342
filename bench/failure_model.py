"""The failure-risk model on the demo plant over seeds and start dates (a benchmark, not a test).

``python bench/failure_model.py`` runs, for every seed × start date, the chain the demo runs, minus
what the model does not need, and prints one row per run (held-out failures, event recall on the
failures with a precursor, episode precision, lead time, the default gate's verdict):

1. ``twin.virtual_plant.generator.generate``: the demo's number of days of the demo plant from the
   start date (the demo plant model, ``TWIN_PLANT`` if set), into a fresh TWIN_HOME under ``--root``;
2. the plant tables, then every landed file claimed and loaded (``twin.ingest``: row rules, rejects,
   GX contract, completeness), as the ingest assets do;
3. ``dbt run`` of the hourly feature mart and its parents only (no KPI marts, no tests), from a
   copy of the dbt project taken when the bench starts, without its publish layer;
4. ``ml.pipeline.evaluate_challenger``: the function ``ml.pipeline.retrain`` calls before it
   registers, with the default config (or ``--ml-config``) and the plant model's failure modes
   without precursor: split, fit, held-out evaluation and the default gate (no MLflow, no Dagster).

One run at a time (DuckDB takes both cores); a 90-day run takes ~4-6 min on the 2-core
machine (ingest half of it). Each run keeps its feature table in ``--root``; a later bench over
the same root re-judges those tables with the current model code (~1 min each) instead of
generating them again, and ``--judge-only`` does only that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.config import load_config  # noqa: E402
from ml.pipeline import evaluate_challenger  # noqa: E402
from orchestration.cli.commands import DEMO_DAYS  # noqa: E402
from twin import warehouse  # noqa: E402
from twin.files import write_plant_tables  # noqa: E402
from twin.ingest.batch_load import load_batch  # noqa: E402
from twin.ingest.landing import claim_landed_files  # noqa: E402
from twin.paths import TwinPaths, plant_path  # noqa: E402
from twin.plant.model import load_plant  # noqa: E402
from twin.plant.tables import plant_tables  # noqa: E402
from twin.virtual_plant.generator import generate  # noqa: E402

FEATURES = "marts.fct_machine_hourly_features"
DEFAULT_SEEDS = (1, 2, 3, 7, 11)
# Three start dates months apart, on different weekdays (Mon, Wed, Fri; the demo's 90 days then end
# on a Saturday, a Monday and a Wednesday), all ending before 2026-12-03: the verdict must not
# depend on the day the demo runs. (The generator writes past days only: ingest rejects timestamps
# in the future.)
DEFAULT_STARTS = ("2026-01-05", "2026-05-13", "2026-09-04")


def _dbt_project(root: Path) -> Path:
    """A copy of the dbt project without its publish layer, made once per bench run.

    The publish models read simulation outputs this bench never makes, and a copy taken at the
    start keeps every run on the same SQL while the working tree changes.
    """
    copy = root / "dbt_project"
    if not copy.exists():
        shutil.copytree(
            ROOT / "dbt_project",
            copy,
            ignore=shutil.ignore_patterns("target", "logs", "publish"),
        )
    return copy


def _features(home: Path, project: Path, log) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt),
        "--no-use-colors",
        "run",
        "--select",
        "+fct_machine_hourly_features",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--vars",
        json.dumps({"twin_home": str(home)}),
    ]
    code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        raise SystemExit(f"dbt run of the feature mart failed ({code}); see {log.name}")


def run_one(
    root: Path, seed: int, start: dt.date, days: int, config, log, keep_home: bool = False
) -> dict:
    home = root / f"seed{seed}-{start.isoformat()}"
    shutil.rmtree(home, ignore_errors=True)
    paths = TwinPaths(home).ensure()
    plant = load_plant(plant_path())
    times = {}
    began = time.perf_counter()
    generate(plant, paths.landing, days=days, start=start, seed=seed)
    times["generate_s"] = time.perf_counter() - began

    began = time.perf_counter()
    write_plant_tables(paths, plant_tables(plant))
    for batch in claim_landed_files(paths):
        load_batch(paths, plant, batch)
    times["ingest_s"] = time.perf_counter() - began

    began = time.perf_counter()
    _features(home, _dbt_project(root), log)
    times["features_s"] = time.perf_counter() - began

    frame = warehouse.read_table(paths, FEATURES)
    # kept (~30 MB) so a model change can be re-judged on the same runs without regenerating them
    frame.to_parquet(_features_file(root, seed, start))
    if not keep_home:  # a 90-day home is ~0.6 GB; the features are kept
        shutil.rmtree(home, ignore_errors=True)
    return judge(frame, seed, start, days, config, plant.modes_without_precursor, times)


def _features_file(root: Path, seed: int, start: dt.date) -> Path:
    return root / f"features-seed{seed}-{start.isoformat()}.parquet"


def judge(frame, seed, start, days, config, modes, times) -> dict:
    """Split, fit, held-out evaluation and the default gate of one run's feature table."""
    began = time.perf_counter()
    result = evaluate_challenger(frame, config, modes_without_precursor=modes)
    times = {**times, "model_s": time.perf_counter() - began}
    m = result.metrics
    row = {
        "seed": seed,
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=days - 1)).isoformat(),
        "test_failures": m.get("n_test_failures"),
        "no_precursor": m.get("n_test_failures_no_precursor"),
        "event_recall": m.get("event_recall"),
        "event_recall_all": m.get("event_recall_all"),
        "episode_precision": m.get("episode_precision"),
        "mean_lead_time_h": m.get("mean_lead_time_h"),
        "median_lead_time_h": m.get("median_lead_time_h"),
        "pr_auc": m.get("pr_auc"),
        "row_precision": m.get("row_precision"),
        "base_rate": m.get("base_rate"),
        "threshold": m.get("threshold"),
        "alarm_episodes": m.get("n_alarm_episodes"),
        "false_alarms_per_machine_week": m.get("false_alarms_per_machine_week"),
        **{k: v for k, v in m.items() if k.startswith("event_recall__")},  # per failure mode
        "threshold_folds": getattr(result.outcome.model, "threshold_folds_", None),
        "threshold_note": result.outcome.notes[0] if result.outcome.notes else "",
        "gate": "passed" if result.gate_passed else "refused",
        "gate_reasons": "; ".join(result.gate_reasons),
        **{k: round(v, 1) for k, v in times.items()},
    }
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/tmp/twin-bench-failure-model")
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)))
    parser.add_argument("--starts", default=",".join(DEFAULT_STARTS))
    parser.add_argument("--days", type=int, default=DEMO_DAYS)
    parser.add_argument("--ml-config", help="a TWIN_ML_CONFIG file (default: the defaults)")
    parser.add_argument("--out", help="write the rows as CSV here (default: <root>/results.csv)")
    parser.add_argument(
        "--judge-only",
        action="store_true",
        help="re-judge the feature tables an earlier run kept in --root (no generation)",
    )
    parser.add_argument(
        "--keep-homes",
        action="store_true",
        help="keep each run's TWIN_HOME (~2 GB) so a feature-mart change can be rebuilt on its lake",
    )
    args = parser.parse_args(argv)
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    default_out = "judged.csv" if args.judge_only else "results.csv"
    out = Path(args.out) if args.out else root / default_out
    config = load_config(args.ml_config) if args.ml_config else load_config("")
    seeds = [int(s) for s in args.seeds.split(",")]
    starts = [dt.date.fromisoformat(s) for s in args.starts.split(",")]
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; {args.days} days per run; plant {plant_path()}",
        flush=True,
    )
    rows = []
    with (root / "dbt.log").open("a") as log:
        # seeds outer: a partial run already covers every start date
        for seed in seeds:
            for start in starts:
                saved = _features_file(root, seed, start)
                if saved.exists():  # kept by an earlier run (or --judge-only): judge it again
                    modes = load_plant(plant_path()).modes_without_precursor
                    frame = pd.read_parquet(saved)
                    row = judge(frame, seed, start, args.days, config, modes, {})
                elif args.judge_only:
                    continue
                else:
                    row = run_one(root, seed, start, args.days, config, log, args.keep_homes)
                rows.append(row)
                pd.DataFrame(rows).to_csv(out, index=False)
                print(json.dumps(row, default=str), flush=True)
    table = pd.DataFrame(rows)
    passed = int((table["gate"] == "passed").sum())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\n{passed} / {len(table)} runs pass the default gate; held-out failures "
        f"{table['test_failures'].min():.0f}-{table['test_failures'].max():.0f}; event recall "
        f"(precursor failures) min {table['event_recall'].min():.2f}, mean "
        f"{table['event_recall'].mean():.2f}; episode precision min "
        f"{table['episode_precision'].min():.2f}, mean {table['episode_precision'].mean():.2f}; "
        f"peak RSS of a child (dbt) {peak:.0f} MB; rows in {out}",
        flush=True,
    )
    return 0 if passed == len(table) else 1


if __name__ == "__main__":
    sys.exit(main())
