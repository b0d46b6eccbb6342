"""The seed's plant through the whole twin: 7 days of history, then one more day.

    python bench/plant_scale.py [--lines 12 --machines 6 --tags 70 --period 5 --days 7]
                                [--work /tmp/twin-plant-scale] [--start 2026-10-05]

The synthetic plant (`twin.plant.synthetic`, 12 lines x 6 machines x 70 tags at 5 s: 5,040 tags,
87 M samples a day) lands day by day on one TWIN_HOME through the real command line: `twin
generate` writes a day's landing files, `twin run` takes them to a new publication. Measured per
`twin run`: wall seconds, the seconds of each Dagster run (from the instance's run records), and
the peak resident memory of the whole process tree (`twin run` and its dbt subprocesses, sampled
every 0.25 s). Steps: day 1 (cold), day 2 (the day-2 increment), days 3..N, day N+1 (the day-8
increment). The same-run baseline: `dbt build --full-refresh` of the same warehouse after the
last day, the path every run took before the models were built day by day.

Targets (issue 12): day-8 increment <= 10 min and <= 6 GB peak, and <= 1.25 x the day-2 increment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from twin.plant.synthetic import synthetic_plant_dict

REPO = Path(__file__).resolve().parents[1]
TWIN = str(Path(sys.executable).with_name("twin"))
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class Measured:
    label: str
    seconds: float
    peak_mb: float
    runs: list[tuple[str, float]] = field(default_factory=list)  # (job, run seconds)


def _tree_rss_bytes(root: int) -> int:
    """Summed resident memory of `root` and its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int((entry / "statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue  # the process ended while it was being read
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(rss.get(pid, 0) for pid in tree)


class PeakMemory:
    """The peak of the summed RSS of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, every_s: float = 0.25) -> None:
        self.peak = 0
        self._pid = pid
        self._every = every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(self._pid))
            self._done.wait(self._every)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak / 2**20


def measured(label: str, command: list[str], env: dict, log: Path) -> Measured:
    began = time.perf_counter()
    with log.open("a") as sink:
        sink.write(f"\n### {label}: {' '.join(command)}\n")
        sink.flush()
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
        memory = PeakMemory(proc.pid)
        code = proc.wait()
        peak = memory.stop()
    seconds = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"{label}: `{' '.join(command)}` exited {code}; see {log}")
    return Measured(label, seconds, peak)


def run_seconds(dagster_home: Path, since: float) -> list[tuple[str, float]]:
    import dagster as dg

    from bench.deployed_timeline import run_timings

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return [(t.job, t.run_s or 0.0) for t in run_timings(instance, since)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=12)
    parser.add_argument("--machines", type=int, default=6)
    parser.add_argument("--tags", type=int, default=70)
    parser.add_argument("--period", type=float, default=5.0)
    parser.add_argument("--days", type=int, default=7, help="days of history before the last day")
    parser.add_argument("--start", default="2026-10-05", help="first day (a Monday by default)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/twin-plant-scale"))
    parser.add_argument(
        "--baseline-only",
        action="store_true",
        help="only the full-rebuild baseline, on the TWIN_HOME of an earlier run in --work",
    )
    args = parser.parse_args(argv)

    work = args.work.resolve()
    if args.baseline_only:
        env = {
            **os.environ,
            "TWIN_HOME": str(work / "home"),
            "TWIN_PLANT": str(work / "plant.yaml"),
        }
        print(_line(full_rebuild(work, env)), flush=True)
        return 0
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work} is not empty: the benchmark needs a fresh TWIN_HOME")
    home = work / "home"
    home.mkdir(parents=True)
    plant_file = work / "plant.yaml"
    raw = synthetic_plant_dict(args.lines, args.machines, args.tags, args.period)
    plant_file.write_text(yaml.safe_dump(raw, sort_keys=False))
    env = {**os.environ, "TWIN_HOME": str(home), "TWIN_PLANT": str(plant_file)}
    env.pop("DAGSTER_HOME", None)  # the instance under TWIN_HOME
    log = work / "bench.log"
    tags = args.lines * args.machines * args.tags
    print(
        f"plant: {args.lines} lines x {args.machines} machines x {args.tags} tags = {tags:,} tags "
        f"at {args.period:g} s; {args.days} days, then one more; work {work}",
        flush=True,
    )

    start = dt.date.fromisoformat(args.start)
    steps = [("day 1", 1), ("day 2", 1), (f"days 3-{args.days}", args.days - 2), ("last day", 1)]
    results: list[Measured] = []
    day = start
    for label, days in steps:
        if days < 1:
            continue
        generate = measured(
            f"generate {label}",
            [TWIN, "generate", "--days", str(days), "--start", str(day), "--demand-plan", "4"],
            env,
            log,
        )
        day += dt.timedelta(days=days)
        since = time.time()
        run = measured(f"run {label}", [TWIN, "run"], env, log)
        run.runs = run_seconds(home / "dagster", since)
        results += [generate, run]
        print(_line(generate), flush=True)
        print(_line(run), flush=True)

    baseline = full_rebuild(work, env)
    print(_line(baseline), flush=True)
    increments = {r.label: r for r in results if r.label in ("run day 2", "run last day")}
    if len(increments) == 2:
        second, last = increments["run day 2"], increments["run last day"]
        print(
            f"last day / day 2: {last.seconds / second.seconds:.2f} x wall; "
            f"dbt {_dbt(last) / max(_dbt(second), 1e-9):.2f} x; "
            f"last day's dbt vs full rebuild: {_dbt(last):.0f} s vs {baseline.seconds:.0f} s"
        )
    return 0


def full_rebuild(work: Path, env: dict) -> Measured:
    """The same-run baseline: `dbt build --full-refresh` of the whole project on the same lake."""
    return measured(
        "baseline: dbt build --full-refresh",
        [
            DBT,
            "build",
            "--full-refresh",
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO / "dbt_project"),
            "--target-path",
            str(work / "dbt_target"),
            "--log-path",
            str(work / "dbt_logs"),
            "--vars",
            f"{{twin_home: '{work / 'home'}'}}",
        ],
        env,
        work / "bench.log",
    )


def _dbt(result: Measured) -> float:
    return sum(seconds for job, seconds in result.runs if job == "kpi_job")


def _line(result: Measured) -> str:
    jobs: dict[str, list[float]] = {}
    for job, seconds in result.runs:
        jobs.setdefault(job, []).append(seconds)
    detail = "; ".join(
        f"{job} {sum(s):.0f} s" + (f" ({len(s)} runs)" if len(s) > 1 else "")
        for job, s in jobs.items()
    )
    return f"{result.label:38} {result.seconds:7.0f} s  peak {result.peak_mb / 1024:5.2f} GB" + (
        f"  [{detail}]" if detail else ""
    )


if __name__ == "__main__":
    sys.exit(main())
