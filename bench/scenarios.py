"""Benchmark of the scenario engine (not a test): ``python bench/scenarios.py [--quick]``.

1. Replications per second of ``twin.simulation.engine`` against the SimPy reference on the same line,
   measured in the same run (the machine is shared, so only the ratio is meaningful).
2. The nightly batch: a plant of 12 lines / 70 machines, 6 scenarios x 500 replications x 13 weeks
   (weekly buckets, two shifts Mon-Fri), one vectorised batch per scenario. Prints total seconds
   and peak RSS.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time

import numpy as np

from twin.simulation import engine, reference
from twin.simulation.line_model import HazardThen, LineParams, LogNormal, MachineParams, Weibull

WEEKS = 13


def _calendar(weeks: int, saturday: bool = False) -> tuple[tuple[float, float], ...]:
    days = 6 if saturday else 5
    return tuple((d * 24 + 6.0, d * 24 + 22.0) for d in range(weeks * 7) if d % 7 < days)


def _plant(rng: np.random.Generator, weeks: int) -> list[LineParams]:
    """12 lines, 70 machines: rates 60-120 parts/h, MTBF 20-80 h, MTTR 0.5-3 h, 4-weekly PM."""
    lines = []
    sizes = [6] * 10 + [5] * 2
    for li, n in enumerate(sizes):
        machines = []
        for mi in range(n):
            pm_start = float(rng.uniform(0, 28 * 24))
            pms = tuple((s, s + 4.0) for s in np.arange(pm_start, weeks * 168 - 4, 28 * 24))
            machines.append(
                MachineParams(
                    f"L{li}-M{mi}",
                    rate_per_h=float(rng.uniform(60, 120)),
                    performance=float(rng.uniform(0.85, 0.97)),
                    scrap=float(rng.uniform(0, 0.02)),
                    tbf=Weibull(1.3, float(rng.uniform(20, 80))),
                    repair=LogNormal(float(rng.uniform(0.5, 3.0)), 0.8),
                    planned=pms,
                    setup_every_h=16.0,
                    setup_h=float(rng.uniform(0.1, 0.6)),
                )
            )
        edges = tuple(float(w * 168) for w in range(weeks + 1))
        lines.append(
            LineParams(
                f"L{li}", tuple(machines), (20,) * (n - 1), _calendar(weeks), weeks * 168.0, edges
            )
        )
    return lines


def _bottleneck(line: LineParams) -> int:
    return int(np.argmin([m.effective_rate for m in line.machines]))


def scenarios(base: list[LineParams]) -> dict[str, list[LineParams]]:
    """Six what-ifs a planner asks for, each applied to every line."""
    out = {"base": base}
    out["line_down_3_days"] = [dataclasses.replace(x, line_down=((48.0, 120.0),)) for x in base]
    out["added_machine_at_bottleneck"] = [
        dataclasses.replace(
            x, parallel=tuple(2 if i == _bottleneck(x) else 1 for i in range(len(x.machines)))
        )
        for x in base
    ]
    out["saturday_shift"] = [
        dataclasses.replace(x, shifts=_calendar(round(x.horizon_h / 168), saturday=True))
        for x in base
    ]

    def risky(m: MachineParams) -> MachineParams:  # failure model: 3x the usual hazard for 72 h
        per_h = 3.0 / m.tbf.mean  # type: ignore[union-attr]
        return dataclasses.replace(m, first_tbf=HazardThen(per_h, 72.0, m.tbf))  # type: ignore[arg-type]

    out["near_term_risk"] = [
        dataclasses.replace(x, machines=tuple(map(risky, x.machines))) for x in base
    ]

    def faster_repair(m: MachineParams) -> MachineParams:
        return dataclasses.replace(m, repair=LogNormal(m.repair.mean * 0.7, 0.8))

    out["faster_repairs"] = [
        dataclasses.replace(x, machines=tuple(map(faster_repair, x.machines))) for x in base
    ]
    return out


def speed_ratio(engine_reps: int, ref_reps: int) -> None:
    """Replications per second of engine and reference on one 6-machine line, 1 week."""
    line = _plant(np.random.default_rng(1), 1)[0]
    t = time.perf_counter()
    ref = reference.simulate(line, ref_reps, seed=2, sample_h=engine.DT_H)
    ref_rate = ref_reps / (time.perf_counter() - t)
    t = time.perf_counter()
    eng = engine.simulate(line, engine_reps, seed=1)
    eng_rate = engine_reps / (time.perf_counter() - t)
    e, r = eng.total_output(), ref.total_output()
    print(
        f"line {line.id}: {len(line.machines)} machines, 1 week, {line.machines[0].rate_per_h:.0f}.. parts/h"
    )
    print(f"  engine    {eng_rate:10.1f} replications/s  (mean output {e.mean():.0f})")
    print(
        f"  reference {ref_rate:10.2f} replications/s  (mean output {r.mean():.0f} +- {r.std() / np.sqrt(len(r)):.0f})"
    )
    print(f"  engine / reference = {eng_rate / ref_rate:.0f}x")


def nightly(replications: int, weeks: int) -> None:
    """The nightly batch: every scenario of the 12-line plant, one engine batch per scenario."""
    plant = _plant(np.random.default_rng(7), weeks)
    assert sum(len(x.machines) for x in plant) == 70
    t0 = time.perf_counter()
    for i, (name, lines) in enumerate(scenarios(plant).items()):
        t = time.perf_counter()
        results = engine.simulate_many(lines, replications, seed=100 + i)
        total = sum(r.total_output().mean() for r in results)
        print(
            f"  {name:30s} {time.perf_counter() - t:7.1f} s   plant mean output {total:12.0f}",
            flush=True,
        )
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"nightly batch: 12 lines / 70 machines, 6 scenarios x {replications} replications x {weeks} weeks"
    )
    print(f"  total {seconds:.1f} s, peak RSS {rss_mb:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    """Run the speed comparison and the nightly batch."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        speed_ratio(200, 2)
        nightly(20, 2)
    else:
        speed_ratio(2000, 5)
        nightly(500, WEEKS)


if __name__ == "__main__":
    main(sys.argv[1:])
