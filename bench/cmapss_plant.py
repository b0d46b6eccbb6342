"""NASA C-MAPSS FD001 as a twinbridge plant: plant model YAML + historian and CMMS landing files.

Real (if simulated) degradation data that we did not generate ourselves, fed through the same landing
contract as any plant (DESIGN §3.2–3.3), so the benchmark runs the unchanged pipeline on it.

Mapping (see ``python -m bench.cmapss_plant --help``):

* every engine is a machine (``TR-001`` … training, run to failure; ``TE-001`` … test, cut off early),
  25 machines per line; one product ``FLIGHT_CYCLE`` with a nominal cycle time of one hour; a 24/7
  shift calendar (serial-line semantics do not matter here);
* one flight cycle = one hour: cycle ``c`` of an engine whose last cycle is at ``E`` is stamped
  ``E - (L - c) h``, so it falls in the hour bucket that ends at that timestamp;
* the 14 informative sensors and the 3 operational settings are tags (``<machine>.<name>``, period
  3600 s) whose ``signal`` names the physics (temperature, pressure, speed, ratio, flow, enthalpy);
  the sensors that are constant in FD001 are dropped (``DROPPED_SENSORS``);
* training engine ``k`` of ``n`` ends ``spacing_h`` hours after engine ``k - 1``, the last one
  ``last_failure_gap_h`` before "now"; each gets a CORRECTIVE work order one minute after its last
  cycle (the failure: one cycle later the engine would be past its end of life);
* all test engines end exactly at "now" (a fixed past date, so nothing is in the future); their true
  remaining life from ``RUL_FD001`` (hours after "now") goes to ``truth.csv`` next to, never inside,
  the landing folder: the pipeline only sees them as machines without a failure (right-censored).

No MES files are written: the pipeline must work with historian + CMMS only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

# DESIGN §5: shared data sets live in ../shared/datasets/ next to the repository.
DATASET_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cmapss"
# A fixed past "now": every timestamp the adapter writes is at or before it.
NOW = dt.datetime(2026, 6, 1, 0, 0)
MACHINES_PER_LINE = 25
PRODUCT_ID = "FLIGHT_CYCLE"
FAILURE_MODE = "hpc_degradation"  # FD001 has one fault mode: HPC degradation
REPAIR_H = 24.0

SETTINGS: list[tuple[str, str, str, str]] = [
    # (column, tag suffix, signal, unit). FD001 runs one operating condition: settings 1-2 are noise
    # around it and setting 3 (throttle resolver angle) is constant; they are tags, not features.
    ("setting_1", "op_setting_1", "operating_setting", "1"),
    ("setting_2", "op_setting_2", "operating_setting", "1"),
    ("setting_3", "op_setting_3", "operating_setting", "1"),
]
SENSORS: list[tuple[str, str, str, str]] = [
    # (column, tag suffix = C-MAPSS symbol, signal, unit); Saxena et al. 2008, table 2.
    ("s2", "T24", "temperature", "degR"),  # total temperature at LPC outlet
    ("s3", "T30", "temperature", "degR"),  # total temperature at HPC outlet
    ("s4", "T50", "temperature", "degR"),  # total temperature at LPT outlet
    ("s7", "P30", "pressure", "psia"),  # total pressure at HPC outlet
    ("s8", "Nf", "speed", "rpm"),  # physical fan speed
    ("s9", "Nc", "speed", "rpm"),  # physical core speed
    ("s11", "Ps30", "pressure", "psia"),  # static pressure at HPC outlet
    ("s12", "phi", "ratio", "pps/psi"),  # ratio of fuel flow to Ps30
    ("s13", "NRf", "speed", "rpm"),  # corrected fan speed
    ("s14", "NRc", "speed", "rpm"),  # corrected core speed
    ("s15", "BPR", "ratio", "1"),  # bypass ratio
    ("s17", "htBleed", "enthalpy", "1"),  # bleed enthalpy
    ("s20", "W31", "flow", "lbm/s"),  # HPT coolant bleed
    ("s21", "W32", "flow", "lbm/s"),  # LPT coolant bleed
]
# Constant over all FD001 engines (s1 T2, s5 P2, s10 epr, s16 farB, s18 Nf_dmd, s19 PCNfR_dmd) or
# two-valued rounding noise (s6 P15: 21.60 / 21.61): no information, so no tag.
DROPPED_SENSORS: dict[str, str] = {
    "s1": "T2",
    "s5": "P2",
    "s6": "P15",
    "s10": "epr",
    "s16": "farB",
    "s18": "Nf_dmd",
    "s19": "PCNfR_dmd",
}
# The signals these tags carry. The feature mart pivots every signal a plant declares, so nothing needs
# to pass them on any more (TWIN_EXTRA_FEATURE_SIGNALS is gone); kept as the adapter's own check.
FEATURE_SIGNALS: tuple[str, ...] = ("temperature", "pressure", "speed", "ratio", "flow", "enthalpy")
COLUMNS = ["unit", "cycle"] + [f"setting_{i}" for i in (1, 2, 3)] + [f"s{i}" for i in range(1, 22)]


@dataclass(frozen=True)
class Layout:
    """Where the trajectories sit in time."""

    now: dt.datetime = NOW
    spacing_h: int = 10  # between consecutive training failures
    last_failure_gap_h: int = 48  # from the last training failure to "now" (> its repair)


@dataclass(frozen=True)
class Fd001:
    train: pd.DataFrame  # unit, cycle, settings, sensors
    test: pd.DataFrame
    rul: pd.Series  # index: test unit, value: remaining cycles after its last cycle


@dataclass(frozen=True)
class Conversion:
    """What ``convert`` wrote."""

    plant_path: Path
    landing: Path
    truth_path: Path
    machines: int
    historian_files: int
    work_orders: int


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep=r"\s+", header=None, names=COLUMNS)
    return frame.astype({"unit": int, "cycle": int})


def read_fd001(
    directory: Path | None = None, n_train: int | None = None, n_test: int | None = None
) -> Fd001:
    """The FD001 files; ``n_train`` / ``n_test`` keep the first units only (fast tests)."""
    directory = directory or DATASET_DIR
    train = _read(directory / "train_FD001.txt.gz")
    test = _read(directory / "test_FD001.txt.gz")
    rul = pd.read_csv(directory / "RUL_FD001.txt.gz", header=None).iloc[:, 0]
    rul.index = np.arange(1, len(rul) + 1)
    if n_train is not None:
        train = train[train["unit"] <= n_train]
    if n_test is not None:
        test = test[test["unit"] <= n_test]
        rul = rul[rul.index <= n_test]
    return Fd001(train.reset_index(drop=True), test.reset_index(drop=True), rul.astype(int))


def train_id(unit: int) -> str:
    return f"TR-{unit:03d}"


def test_id(unit: int) -> str:
    return f"TE-{unit:03d}"


def place(data: Fd001, layout: Layout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readings with ``machine_id`` and ``ts``, and each machine's last-cycle time (``end_ts``).

    Training units end ``spacing_h`` apart in unit order (FD001 units are independent draws, so the
    order carries no information); test units all end at ``layout.now``.
    """
    units = sorted(data.train["unit"].unique())
    n = len(units)
    ends = {
        train_id(u): layout.now
        - dt.timedelta(hours=layout.last_failure_gap_h + (n - 1 - k) * layout.spacing_h)
        for k, u in enumerate(units)
    }
    ends |= {test_id(u): layout.now for u in sorted(data.test["unit"].unique())}
    frames = []
    for frame, name in ((data.train, train_id), (data.test, test_id)):
        f = frame.copy()
        f["machine_id"] = f["unit"].map(name)
        last = f.groupby("unit")["cycle"].transform("max")
        end = pd.to_datetime(f["machine_id"].map(ends))
        f["ts"] = end - pd.to_timedelta(last - f["cycle"], unit="h")
        frames.append(f)
    readings = pd.concat(frames, ignore_index=True)
    last_cycle = pd.DataFrame(
        {"machine_id": list(ends), "end_ts": pd.to_datetime(list(ends.values()))}
    )
    return readings, last_cycle


def tag_specs() -> list[tuple[str, str, str, str]]:
    return SETTINGS + SENSORS


def _limits(values: pd.Series) -> tuple[float, float]:
    """Generous range: the observed range widened by its own width (and never empty)."""
    lo, hi = float(values.min()), float(values.max())
    pad = max(hi - lo, abs(hi) * 0.05, 1e-3)
    return round(lo - pad, 4), round(hi + pad, 4)


def plant_dict(data: Fd001) -> dict:
    """The plant model (DESIGN §3.2) for the units in ``data``."""
    both = pd.concat([data.train, data.test])
    limits = {col: _limits(both[col]) for col, *_ in tag_specs()}

    def machine(machine_id: str) -> dict:
        return {
            "id": machine_id,
            "type": "turbofan_engine",
            "ideal_cycle_time_s": {PRODUCT_ID: 3600.0},
            "tags": [
                {
                    "tag": f"{machine_id}.{suffix}",
                    "signal": signal,
                    "unit": unit,
                    "period_s": 3600,
                    "min": limits[col][0],
                    "max": limits[col][1],
                }
                for col, suffix, signal, unit in tag_specs()
            ],
        }

    lines = []
    for prefix, ids in (
        ("TR", [train_id(u) for u in sorted(data.train["unit"].unique())]),
        ("TE", [test_id(u) for u in sorted(data.test["unit"].unique())]),
    ):
        for i in range(0, len(ids), MACHINES_PER_LINE):
            chunk = ids[i : i + MACHINES_PER_LINE]
            lines.append(
                {
                    "id": f"{prefix}-L{i // MACHINES_PER_LINE + 1}",
                    "buffer_capacity": 0,
                    "machines": [machine(m) for m in chunk],
                }
            )
    return {
        "site": {"id": "CMAPSS_FD001", "name": "NASA C-MAPSS FD001 fleet", "timezone": "UTC"},
        "calendar": {
            "shifts": [
                {
                    "name": "all_day",
                    "start": "00:00",
                    "end": "24:00",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                }
            ]
        },
        "products": [{"id": PRODUCT_ID, "family": "turbofan_operation"}],
        "lines": lines,
    }


def _replace_atomically(write, path: Path) -> None:
    """Landing contract: write under a name the watcher ignores, then rename into the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def historian_long(readings: pd.DataFrame) -> pd.DataFrame:
    """Wide readings → the historian landing shape ``tag, ts, value, quality``."""
    parts = [
        pd.DataFrame(
            {
                "tag": readings["machine_id"] + "." + suffix,
                "ts": readings["ts"],
                "value": readings[col].astype(float),
                "quality": "GOOD",
            }
        )
        for col, suffix, _, _ in tag_specs()
    ]
    return pd.concat(parts, ignore_index=True).sort_values(["tag", "ts"], kind="stable")


def write_historian(readings: pd.DataFrame, landing: Path) -> list[Path]:
    """Parquet files per UTC day, one per group of engines that run over the same hours of it.

    Engines start and end mid-day; the ingest judges a tag's completeness over its batch's span and
    holds back a batch where many tags fall short, as a half-delivered export would be. An engine
    that does not exist yet is no missing data, so each file holds the engines of one span: most
    days are one file of the engines running all day, plus one per engine starting or ending.
    ``ts`` is timestamp[us], naive = UTC.
    """
    long = historian_long(readings)
    long["machine_id"] = long["tag"].str.split(".", n=1).str[0]
    paths = []
    for day, rows in long.groupby(long["ts"].dt.date):
        span = rows.groupby("machine_id")["ts"].agg(["min", "max"])
        groups = span.groupby(["min", "max"]).groups  # (first ts, last ts) -> engines
        for part, (_, machines) in enumerate(sorted(groups.items(), key=lambda g: g[0])):
            chunk = rows[rows["machine_id"].isin(machines)].drop(columns="machine_id")
            table = pa.Table.from_pandas(
                chunk.assign(ts=chunk["ts"].astype("datetime64[us]")), preserve_index=False
            )
            name = f"cmapss_fd001_{day.isoformat()}_{part:02d}.parquet"
            path = landing / "historian" / name
            _replace_atomically(lambda p, t=table: pq.write_table(t, p, compression="snappy"), path)
            paths.append(path)
    return paths


def _iso(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def work_orders(last_cycle: pd.DataFrame) -> pd.DataFrame:
    """One CORRECTIVE work order per training machine, starting one minute after its last cycle."""
    failed = last_cycle[last_cycle["machine_id"].str.startswith("TR-")]
    start = failed["end_ts"] + pd.Timedelta(minutes=1)
    return pd.DataFrame(
        {
            "work_order_id": "WO-" + failed["machine_id"],
            "machine_id": failed["machine_id"],
            "type": "CORRECTIVE",
            "failure_mode": FAILURE_MODE,
            "reported_ts": _iso(start),
            "start_ts": _iso(start),
            "end_ts": _iso(start + pd.Timedelta(hours=REPAIR_H)),
        }
    ).reset_index(drop=True)


def truth(data: Fd001, layout: Layout) -> pd.DataFrame:
    """Test machines: true remaining life after "now" (cycles = hours), never shown to the pipeline."""
    return pd.DataFrame(
        {
            "machine_id": [test_id(u) for u in data.rul.index],
            "as_of": layout.now.isoformat(),
            "rul_h": data.rul.to_numpy(),
        }
    )


def convert(
    out: Path,
    *,
    data: Fd001 | None = None,
    layout: Layout = Layout(),
    landing: Path | None = None,
) -> Conversion:
    """Write ``out/plant.yaml``, ``out/truth.csv`` and the landing files (``landing`` or ``out/landing``)."""
    data = data or read_fd001()
    out.mkdir(parents=True, exist_ok=True)
    landing = landing or out / "landing"
    plant_path = out / "plant.yaml"
    plant = plant_dict(data)
    _replace_atomically(
        lambda p: p.write_text(yaml.safe_dump(plant, sort_keys=False), encoding="utf-8"),
        plant_path,
    )
    readings, last_cycle = place(data, layout)
    historian = write_historian(readings, landing)
    orders = work_orders(last_cycle)
    cmms_path = landing / "cmms" / "cmapss_fd001_work_orders.csv"
    _replace_atomically(lambda p: orders.to_csv(p, index=False), cmms_path)
    truth_path = out / "truth.csv"
    truth(data, layout).to_csv(truth_path, index=False)
    return Conversion(
        plant_path=plant_path,
        landing=landing,
        truth_path=truth_path,
        machines=len(last_cycle),
        historian_files=len(historian),
        work_orders=len(orders),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for plant.yaml, truth.csv")
    parser.add_argument("--landing", type=Path, help="landing folder (default OUT/landing)")
    parser.add_argument("--data", type=Path, help="folder with the FD001 .txt.gz files")
    parser.add_argument("--train-units", type=int, help="first N training engines only")
    parser.add_argument("--test-units", type=int, help="first N test engines only")
    parser.add_argument("--spacing-h", type=int, default=Layout.spacing_h)
    args = parser.parse_args(argv)
    data = read_fd001(args.data, args.train_units, args.test_units)
    result = convert(
        args.out, data=data, layout=Layout(spacing_h=args.spacing_h), landing=args.landing
    )
    # A command-line entry point; stdout is its interface (twin/ has no logging setup of its own).
    sys.stdout.write(
        f"plant model: {result.plant_path}  (TWIN_PLANT)\n"
        f"landing:     {result.landing}  ({result.historian_files} historian day files, cmms)\n"
        f"truth:       {result.truth_path}  (test engines' remaining hours after {NOW}Z)\n"
    )


if __name__ == "__main__":
    main()
