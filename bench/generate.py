"""Benchmark the virtual plant: one day of a 5,000-tag plant at 5 s sampling (86.4 M samples).

    python bench/generate.py [--lines 10 --machines 100 --tags 5 --period 5 --format parquet]

Prints wall seconds, samples per second, peak RSS and the historian file size. Target: < 60 s and
well under 8 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

from twin.plant.synthetic import synthetic_plant
from twin.virtual_plant.generator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--tags", type=int, default=5)
    parser.add_argument("--period", type=float, default=5.0)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv"])
    parser.add_argument("--start", default="2026-10-05", help="first day (a Monday by default)")
    args = parser.parse_args(argv)
    plant = synthetic_plant(args.lines, args.machines, args.tags, args.period)
    tags = args.lines * args.machines * args.tags
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as tmp:
        began = time.perf_counter()
        report = generate(
            plant,
            Path(tmp) / "landing",
            days=args.days,
            start=dt.date.fromisoformat(args.start),
            historian_format=args.format,
        )
        seconds = time.perf_counter() - began
        size = sum(p.stat().st_size for p in (Path(tmp) / "landing" / "historian").iterdir())
    samples = report.rows["historian"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"tags {tags:,} @ {args.period:g} s, {args.days} day(s), historian {args.format}")
    print(f"seconds      {seconds:.1f}")
    print(f"samples      {samples:,}")
    print(f"samples/s    {samples / seconds:,.0f}")
    print(f"peak RSS     {peak_mb:,.0f} MB")
    print(f"historian    {size / 1e6:,.0f} MB")
    print(
        f"mes rows     states {report.rows['mes_states']:,}, production {report.rows['mes_production']:,}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
