"""Ingest benchmark (not a test): historian batches of 5,000 tags at 5 s, through load_batch.

Cases: one hour as CSV and as Parquet (3.6 M points), a full day as Parquet (86.4 M points). Each
measurement runs in a fresh subprocess so that its peak RSS is its own; next to every twinbridge load
runs a plain pandas read-and-validate of the same file (same rules, no GX, no rejects, no writing).

    python bench/ingest.py [--cases csv_hour,parquet_hour,parquet_day] [--work /tmp/twin-bench]

Results go to BENCHMARKS.md by hand (the command prints a Markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

MACHINES, TAGS_PER_MACHINE, PERIOD_S = 50, 100, 5  # 5,000 tags at 5 s: 720 samples per tag-hour
START = datetime(2026, 3, 2, tzinfo=UTC)
CASES = {
    "csv_hour": ("hour.csv", 1),
    "parquet_hour": ("hour.parquet", 1),
    "parquet_day": ("day.parquet", 24),
}


def plant_dict() -> dict:
    machines = [
        {
            "id": f"B1-M{m:02d}",
            "type": "synthetic",
            "ideal_cycle_time_s": {"P1": 30.0},
            "tags": [
                {
                    "tag": f"B1-M{m:02d}.sig_{i:03d}",
                    "signal": "temperature",
                    "unit": "degC",
                    "period_s": PERIOD_S,
                    "min": -1000.0,
                    "max": 1000.0,
                }
                for i in range(TAGS_PER_MACHINE)
            ],
        }
        for m in range(MACHINES)
    ]
    return {
        "site": {"id": "BENCH", "name": "Benchmark plant", "timezone": "UTC"},
        "calendar": {
            "shifts": [{"name": "day", "start": "00:00", "end": "24:00", "days": ["mon"]}]
        },
        "products": [{"id": "P1", "family": "f"}],
        "lines": [{"id": "B1", "buffer_capacity": 10, "machines": machines}],
    }


def tag_names() -> list[str]:
    return [t["tag"] for m in plant_dict()["lines"][0]["machines"] for t in m["tags"]]


def hour_table(hour: int, rng: np.random.Generator) -> pa.Table:
    """One hour, ordered by tag then time, the way historians export; values rounded like sensors."""
    tags = tag_names()
    per_tag = 3600 // PERIOD_S
    first = np.datetime64(START.replace(tzinfo=None), "us") + np.timedelta64(hour * 3600, "s")
    ts = first + np.arange(per_tag) * np.timedelta64(PERIOD_S, "s")
    n = len(tags) * per_tag
    quality = rng.choice(np.array([0, 1, 2], dtype=np.int32), size=n, p=[0.98, 0.015, 0.005])
    return pa.table(
        {
            "tag": pa.DictionaryArray.from_arrays(
                np.repeat(np.arange(len(tags), dtype=np.int32), per_tag), pa.array(tags)
            ),
            "ts": pa.array(np.tile(ts, len(tags)), pa.timestamp("us", tz="UTC")),
            "value": np.round(rng.normal(50.0, 10.0, n), 3),
            "quality": pa.DictionaryArray.from_arrays(
                quality, pa.array(["GOOD", "UNCERTAIN", "BAD"])
            ),
        }
    )


def generate(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    if not (work / "hour.parquet").exists() or not (work / "hour.csv").exists():
        table = hour_table(0, rng)
        pq.write_table(table, work / "hour.parquet")
        plain = table.cast(
            pa.schema(
                [
                    ("tag", pa.string()),
                    ("ts", pa.timestamp("us", tz="UTC")),
                    ("value", pa.float64()),
                    ("quality", pa.string()),
                ]
            )
        )
        pcsv.write_csv(plain, work / "hour.csv", pcsv.WriteOptions(quoting_style="none"))
    if not (work / "day.parquet").exists():
        writer = None
        for hour in range(24):  # one hour at a time: the generator stays under 1 GB
            table = hour_table(hour, rng)
            writer = writer or pq.ParquetWriter(work / "day.parquet.tmp", table.schema)
            writer.write_table(table)
        writer.close()
        (work / "day.parquet.tmp").rename(work / "day.parquet")


def run_twin(work: Path, case: str) -> dict:
    """Claim + load one file with twinbridge; returns timings and the audit."""
    import shutil

    from twin.ingest import batch_load, landing
    from twin.paths import TwinPaths
    from twin.plant.model import parse_plant

    name, hours = CASES[case]
    imported = time.perf_counter()
    import great_expectations  # noqa: F401 - a one-off ~4-6 s per process, reported apart

    import_s = time.perf_counter() - imported
    home = work / f"home_{case}"
    shutil.rmtree(home, ignore_errors=True)
    paths = TwinPaths(home).ensure()
    plant = parse_plant(plant_dict())
    batch_load.ensure_lake(paths)
    (paths.landing_dir("historian") / name).hardlink_to(work / name)
    began = time.perf_counter()
    (batch,) = landing.claim_landed_files(paths)
    claimed = time.perf_counter()
    outcome = batch_load.load_batch(paths, plant, batch, now=START + timedelta(hours=hours + 1))
    done = time.perf_counter()
    audit = outcome.audit
    return {
        "import_s": import_s,
        "claim_s": claimed - began,
        "load_s": done - claimed,
        "seconds": done - began,
        "rows": audit["rows_in"],
        "status": audit["status"],
        "loaded": audit["rows_loaded"],
        "contract": outcome.contract.success if outcome.contract else None,
        "gx_rows": outcome.contract.rows_validated if outcome.contract else 0,
        "completeness_passed": outcome.completeness.passed if outcome.completeness else None,
    }


def run_pandas(work: Path, case: str) -> dict:
    """The same rules in plain pandas: read, parse, range/finite/code/duplicate checks. No writing."""
    import pandas as pd

    name, _ = CASES[case]
    began = time.perf_counter()
    path = work / name
    if name.endswith(".csv"):
        frame = pd.read_csv(
            path, dtype={"tag": "string", "ts": "string", "value": "float64", "quality": "string"}
        )
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    else:
        frame = pd.read_parquet(path)
    ranges = pd.DataFrame({"tag": tag_names(), "lo": -1000.0, "hi": 1000.0})
    lo = frame["tag"].map(ranges.set_index("tag")["lo"])
    hi = frame["tag"].map(ranges.set_index("tag")["hi"])
    value = frame["value"]
    bad = (
        lo.isna()
        | ~np.isfinite(value)
        | (value < lo)
        | (value > hi)
        | ~frame["quality"].astype("string").str.upper().isin(["GOOD", "UNCERTAIN", "BAD"])
        | frame.duplicated(["tag", "ts"])
    )
    return {"seconds": time.perf_counter() - began, "rows": len(frame), "bad": int(bad.sum())}


def child(work: Path, case: str, engine: str) -> dict:
    result = run_twin(work, case) if engine == "twinbridge" else run_pandas(work, case)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--work", type=Path, default=Path("/tmp/twin-bench"))
    parser.add_argument("--engines", default="twinbridge,pandas")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.work, *args.child)))
        return
    began = time.perf_counter()
    generate(args.work)
    print(f"data ready in {args.work} ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
    print("| case | engine | points | seconds | points/s | peak RSS MB | notes |")
    print("|---|---|---:|---:|---:|---:|---|")
    for case in args.cases.split(","):
        for engine in args.engines.split(","):
            load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
            out = subprocess.run(
                [sys.executable, __file__, "--work", str(args.work), "--child", case, engine],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode:
                print(f"| {case} | {engine} | failed: {out.stderr.strip().splitlines()[-1]} |||||")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            load = f"load avg {load_before:.1f}→{os.getloadavg()[0]:.1f}"
            notes = (
                f"claim {r['claim_s']:.1f} s + load {r['load_s']:.1f} s (GX import {r['import_s']:.1f} s before, untimed); {r['status']}, GX on {r['gx_rows']:,} rows, "
                f"contract {'passed' if r['contract'] else 'FAILED'}; {load}"
                if engine == "twinbridge"
                else f"{r['bad']} bad rows found; {load}"
            )
            print(
                f"| {case} | {engine} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows'] / r['seconds'] / 1e6:.2f} M "
                f"| {r['peak_rss_mb']:,.0f} | {notes} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
