"""Fidelity of the twin on the virtual plant (a benchmark, not a test): ``python bench/fidelity.py``.

1. ``twin generate --days 56 --start <Monday> --seed S`` into a fresh TWIN_HOME under /tmp;
2. hold back the last 2 weeks' landing files (by the date in the file name);
3. ``twin run``: loads 6 weeks and publishes 13 weeks of capacity from the Monday after them;
4. land the 2 held weeks, ``twin run`` again: their actuals arrive and the asset
   ``published/capacity_forecast_accuracy`` compares them with the first publication;
5. print, per line and week, published P10/P50/P90 against actual, error and band, and the summary:
   mean absolute error of the weekly P50 per line (target within 6 %) and the share of line-weeks
   inside P10-P90 (target: most).

The comparison is the asset's table as published: per line and week, the line row (the simulated
good output of the coupled line) against the line's KPI output (its last machine's good output).
The virtual plant's lines are coupled serial lines with buffers (``twin.virtual_plant.flow``: starved and
blocked machines, output set by the bottleneck), as the twin simulates them, so this is like for
like. (Before the generator was coupled its last machines out-produced their lines' bottlenecks,
and the standalone capacity of the last machine was the fair comparison; it no longer is: that
machine is starved much of its time.)

``--generator reference``: the same steps on a plant the twin did not generate
(``bench/reference_plant.py``): 10 weeks of the SimPy reference model's history of a three-line
plant with its own machine laws, written as landing files whose MES books only RUNNING,
UNPLANNED_DOWNTIME and OFF, no historian; 6 weeks loaded, 4 held back (3 lines x 4 weeks = 12
line-weeks). Targets: mean |error| of the weekly line P50 <= 6 %, bias within +-3 %, 60-95 % of the
line-weeks inside P10-P90.

A per-machine breakdown of the held-out weeks (published available hours and rate against the
KPI marts' production hours and good output per production hour) shows where a bias comes from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin import warehouse  # noqa: E402
from twin.paths import DEMO_PLANT, TwinPaths  # noqa: E402
from twin.publish.accuracy import summary  # noqa: E402
from twin.publish.versions import list_versions  # noqa: E402

WEEKS, HELD_WEEKS = 8, 2
# The reference plant: 6 weeks of history, 4 held out (3 lines x 4 weeks = 12 line-weeks), in a
# window without a DST change (its site is in America/Chicago).
REF_WEEKS, REF_HELD_WEEKS = 10, 4
REF_START = dt.date(2026, 5, 4)


def _default_start() -> dt.date:
    """The latest Monday whose 8 weeks end before today (the generator writes past days)."""
    last_possible = dt.date.today() - dt.timedelta(days=7 * WEEKS)
    return last_possible - dt.timedelta(days=last_possible.weekday())


def _twin(home: Path, *args: str, log: Path, plant: Path | None = None) -> float:
    env = {**os.environ, "TWIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    if plant is not None:
        env["TWIN_PLANT"] = str(plant)
    env.setdefault("TWIN_PLANT", str(DEMO_PLANT))
    began = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ twin {' '.join(args)}\n")
        out.flush()
        code = subprocess.run(
            [str(Path(sys.executable).with_name("twin")), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    seconds = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"twin {' '.join(args)} failed ({code}); see {log}")
    return seconds


def _hold_back(home: Path, cutoff: dt.date) -> list[tuple[Path, Path]]:
    """Move landing files dated on or after ``cutoff`` (name date) to ``<home>/held``."""
    moved = []
    for file in sorted((home / "landing").rglob("*")):
        if not file.is_file():
            continue
        stamp = next((p for p in file.stem.split("_") if len(p) == 10 and p[4] == "-"), None)
        if stamp and dt.date.fromisoformat(stamp) >= cutoff:
            target = home / "held" / file.relative_to(home / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            file.rename(target)
            moved.append((target, file))
    return moved


def _weeks_table(acc: pd.DataFrame) -> str:
    shown = acc.assign(
        error=(100 * acc["error_pct"]).map("{:+.1f} %".format),
        band=acc["inside_band"].map({True: "in", False: "OUT"}),
    )[
        [
            "line_id",
            "week_start",
            "published_p10",
            "published_p50",
            "published_p90",
            "actual_units",
            "error",
            "band",
            "days_with_actuals",
        ]
    ]
    return shown.to_string(index=False, float_format="{:,.0f}".format)


def _per_line(acc: pd.DataFrame) -> str:
    rows = []
    for line, g in acc.groupby("line_id"):
        rows.append(
            {
                "line_id": line,
                "weeks": len(g),
                "mean_abs_error": f"{100 * g['error_pct'].abs().mean():.1f} %",
                "bias": f"{100 * g['error_pct'].mean():+.1f} %",
                "inside_band": f"{int(g['inside_band'].sum())}/{len(g)}",
            }
        )
    return pd.DataFrame(rows).to_string(index=False)


def _machine_breakdown(paths: TwinPaths, first: str, weeks: list[dt.date]) -> pd.DataFrame:
    """Held-out weeks per machine: what the first publication assumed against what happened."""
    cap = pd.read_parquet(paths.published / "versions" / first / "capacity_supply.parquet")
    cap = cap[
        (cap["resource_level"] == "machine")
        & (cap["bucket_grain"] == "week")
        & (cap["scenario_id"] == "baseline")
        & (cap["quantile"] == "p50")
    ]
    cap = cap.assign(week=pd.to_datetime(cap["bucket_start"]).dt.date)
    cap = cap[cap["week"].isin(weeks)]
    twin = cap.groupby("resource_id").agg(
        calendar_h=("calendar_hours", "sum"),
        planned_h=("planned_downtime_hours", "sum"),
        avail_h=("available_hours", "sum"),
        rate=("rate_units_per_hour", "mean"),
        twin_units=("capacity_units", "sum"),
    )
    kpi = warehouse.read_table(paths, "marts.fct_machine_kpis_daily")
    kpi = kpi.assign(date=pd.to_datetime(kpi["date"]).dt.date)
    kpi = kpi[kpi["date"].map(lambda d: d - dt.timedelta(days=d.weekday())).isin(weeks)]
    act = kpi.groupby("machine_id").agg(
        busy_h=("planned_busy_hours", "sum"),
        run_h=("production_hours", "sum"),
        down_h=("unplanned_downtime_hours", "sum"),
        actual_units=("good_qty", "sum"),
    )
    out = twin.join(act, how="outer")
    out["actual_rate"] = out["actual_units"] / out["run_h"]
    out["hours_ratio"] = out["run_h"] / out["avail_h"]
    out["rate_ratio"] = out["actual_rate"] / out["rate"]
    out["units_error"] = out["actual_units"] / out["twin_units"] - 1
    return out


def _reference_generate(home: Path, start: dt.date, seed: int, weeks: int, log: Path) -> Path:
    """The SimPy reference plant's ``weeks`` from ``start`` as landing files; the plant file."""
    from bench import reference_plant

    plant_path = reference_plant.write_plant(home / "plant" / "plant.yaml")
    frames = reference_plant.simulate_history(start, 7 * weeks, seed)
    files = reference_plant.write_landing(frames, home / "landing", reference_plant.plant())
    with log.open("a") as out:
        out.write(f"reference plant: {files} landing files, {len(frames['cmms'])} failures\n")
    return plant_path


def _targets(stats: dict, generator: str) -> str:
    if not stats["line_weeks"]:
        return "summary: no line-week to judge"
    mae, bias, cover = (100 * stats[k] for k in ("mean_abs_error_pct", "bias_pct", "band_coverage"))
    met = {
        "mae": mae <= 6.0,
        "bias": abs(bias) <= 3.0 if generator == "reference" else True,
        "band": 60.0 <= cover <= 95.0 if generator == "reference" else cover > 50.0,
    }
    band = "60-95 %" if generator == "reference" else "most"
    return (
        f"summary: {stats['line_weeks']} line-weeks, mean |error| of P50 {mae:.1f} % "
        f"(target <= 6 %: {'met' if met['mae'] else 'MISSED'}), bias {bias:+.1f} % "
        + ("(target within +-3 %: " + ("met" if met["bias"] else "MISSED") + ")"
           if generator == "reference" else "")
        + f", inside P10-P90 {cover:.0f} % (target {band}: {'met' if met['band'] else 'MISSED'})"
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generator",
        choices=("virtual", "reference"),
        default="virtual",
        help="virtual: the demo plant (twin generate); reference: bench/reference_plant.py",
    )
    parser.add_argument("--start", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--home", type=Path, default=None, help="default /tmp/twin-fidelity-<generator>-<seed>"
    )
    args = parser.parse_args(argv)
    reference = args.generator == "reference"
    weeks, held_n = (REF_WEEKS, REF_HELD_WEEKS) if reference else (WEEKS, HELD_WEEKS)
    start = args.start or (REF_START if reference else _default_start())
    if start.weekday() != 0:
        parser.error(f"--start {start} is not a Monday")
    home = (args.home or Path(f"/tmp/twin-fidelity-{args.generator}-{args.seed}")).resolve()
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    log = home / "fidelity.log"
    paths = TwinPaths(home)
    cutoff = start + dt.timedelta(weeks=weeks - held_n)
    held_weeks = [cutoff + dt.timedelta(weeks=i) for i in range(held_n)]
    print(
        f"fidelity ({args.generator}): seed {args.seed}, {weeks} weeks from {start}, held back "
        f"from {cutoff}; TWIN_HOME {home}; log {log}",
        flush=True,
    )
    began = time.perf_counter()
    plant: Path | None = None
    if reference:
        plant = _reference_generate(home, start, args.seed, weeks, log)
        t_gen = time.perf_counter() - began
    else:
        t_gen = _twin(home, "generate", "--days", str(7 * weeks), "--start", str(start),
                      "--seed", str(args.seed), log=log)  # fmt: skip
    moved = _hold_back(home, cutoff)
    print(f"generated in {t_gen:.0f} s; held back {len(moved)} files", flush=True)
    t_run1 = _twin(home, "run", log=log, plant=plant)
    first = list_versions(paths)
    print(f"run 1 ({weeks - held_n} weeks) in {t_run1:.0f} s: published {first[-1]}", flush=True)
    for held, landing in moved:
        landing.parent.mkdir(parents=True, exist_ok=True)
        held.rename(landing)
    t_run2 = _twin(home, "run", log=log, plant=plant)
    print(
        f"run 2 (+{held_n} weeks) in {t_run2:.0f} s: {len(list_versions(paths))} versions",
        flush=True,
    )

    acc = pd.read_parquet(paths.published / "capacity_forecast_accuracy.parquet")
    stats = summary(acc)
    print("\n== line rows (the asset): published vs actual per line and week ==")
    print(_weeks_table(acc))
    print(_per_line(acc))
    print(_targets(stats, args.generator))
    print("\n== held-out weeks per machine: first publication (P50) vs KPI marts ==")
    breakdown = _machine_breakdown(paths, first[-1], held_weeks)
    print(breakdown.to_string(float_format="{:,.3f}".format))
    print(
        f"\nmachine: {platform.node()}, {os.cpu_count()} CPUs, {platform.processor() or ''} "
        f"load {os.getloadavg()[0]:.1f}; total {time.perf_counter() - began:.0f} s "
        f"(generate {t_gen:.0f} s, run 1 {t_run1:.0f} s, run 2 {t_run2:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
