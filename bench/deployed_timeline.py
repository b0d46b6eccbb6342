"""Where the seconds go on a deployed twin: every Dagster run from the landing to the publication.

Reads the run records of a Dagster instance (the deployed twin's DAGSTER_HOME) and prints, per run
in creation order: seconds from the first run's creation to its creation, the wait in the queue
(creation to start), the run's own duration, its job and what it materialized. The deployed-twin
test prints this after each landing (``pytest -s tests/integration/test_deployed_twin.py``);
BENCHMARKS.md ("Deployed twin") quotes it.

    python bench/deployed_timeline.py --dagster-home $TWIN_HOME/dagster [--since UNIX_TIME]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import dagster as dg


@dataclass(frozen=True)
class RunTiming:
    job: str
    status: str
    created: float  # unix seconds
    started: float | None
    ended: float | None
    assets: tuple[str, ...]

    @property
    def wait_s(self) -> float | None:
        return None if self.started is None else self.started - self.created

    @property
    def run_s(self) -> float | None:
        return None if self.started is None or self.ended is None else self.ended - self.started


def run_timings(instance: dg.DagsterInstance, since: float = 0.0) -> list[RunTiming]:
    """The runs created at or after ``since``, oldest first."""
    timings = []
    for record in instance.get_run_records():
        if record.create_timestamp.timestamp() < since:
            continue
        run = record.dagster_run
        timings.append(
            RunTiming(
                job=run.job_name,
                status=run.status.value,
                created=record.create_timestamp.timestamp(),
                started=record.start_time,
                ended=record.end_time,
                assets=tuple(sorted(k.to_user_string() for k in run.asset_selection or ())),
            )
        )
    return sorted(timings, key=lambda t: t.created)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def format_timeline(timings: list[RunTiming]) -> str:
    if not timings:
        return "no runs"
    origin = timings[0].created
    last_end = max((t.ended or t.created) for t in timings)
    lines = [f"{'+s':>5} {'wait':>5} {'run':>5}  {'status':8} job: assets"]
    for t in timings:
        shown = ", ".join(t.assets[:4]) + (
            f" and {len(t.assets) - 4} more" if len(t.assets) > 4 else ""
        )
        lines.append(
            f"{t.created - origin:5.0f} {_seconds(t.wait_s):>5} {_seconds(t.run_s):>5}  "
            f"{t.status:8} {t.job}: {shown}"
        )
    lines.append(
        f"{len(timings)} runs, {last_end - origin:.0f} s from the first run's creation to the last run's end"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagster-home", type=Path, required=True)
    parser.add_argument(
        "--since", type=float, default=0.0, help="unix time: only runs created after it"
    )
    args = parser.parse_args()
    instance = dg.DagsterInstance.from_config(str(args.dagster_home))
    print(format_timeline(run_timings(instance, args.since)))


if __name__ == "__main__":
    main()
