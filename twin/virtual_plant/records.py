"""Rows that are not signals: MES/CMMS frames, closed work orders and the ground-truth files.

Ground truth lives in `<truth_dir>/failures/<date>.csv` and `<truth_dir>/defects/<date>.csv`, one
file per generated day, so a later call adds files instead of rewriting earlier ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.virtual_plant.defects import LatePlan
from twin.virtual_plant.landing_files import iso_seconds, write_csv
from twin.virtual_plant.mes import DayContext
from twin.virtual_plant.timeline import Event, key, rng_for

STREAM_CMMS = 41


def to_frame(
    parts: list[dict[str, np.ndarray]], columns: list[str], ts_cols: tuple[str, ...]
) -> pd.DataFrame:
    data = {
        c: np.concatenate([p[c] for p in parts]) if parts else np.array([], dtype=object)
        for c in columns
    }
    for c in ts_cols:
        data[c] = iso_seconds(data[c]) if len(data[c]) else np.array([], dtype=object)
    return pd.DataFrame(data, columns=columns)


def cmms_rows(seed: int, events: list[Event], day: DayContext) -> list[dict]:
    """Work orders closed on this day (a CMMS extract lists closed orders)."""
    rows = []
    for ev in events:
        end = int(np.floor(ev.end))
        if not day.start <= end < day.end:
            continue
        start = int(np.floor(ev.start))
        rng = rng_for(seed, key(ev.work_order_id), STREAM_CMMS)
        # breakdowns are reported within minutes; planned orders are raised a week ahead
        reported = (
            start + int(rng.uniform(30, 600)) if ev.kind == "CORRECTIVE" else start - 7 * 86400
        )
        rows.append(
            {
                "work_order_id": ev.work_order_id,
                "machine_id": ev.machine_id,
                "type": ev.kind,
                "failure_mode": ev.failure_mode or "",
                "reported_ts": reported,
                "start_ts": start,
                "end_ts": end,
            }
        )
    return rows


def failure_truth(ev: Event) -> dict:
    (s,), (e,), (r,) = (
        iso_seconds(np.array([int(np.floor(x))])) for x in (ev.start, ev.end, ev.ramp_wall_start)
    )
    return {
        "machine_id": ev.machine_id,
        "work_order_id": ev.work_order_id,
        "failure_mode": ev.failure_mode,
        "start": s,
        "end": e,
        "had_precursor": ev.has_precursor,
        "precursor_signal": ev.precursor_signal or "",
        "precursor_start": r if ev.has_precursor else "",
        "precursor_op_hours": round(ev.precursor_hours, 2),
    }


def late_truth(late: LatePlan, rows: int) -> dict:
    lo, hi = iso_seconds(np.array([late.start, late.end]))
    return {
        "date": late.date.isoformat(),
        "source": late.source,
        "kind": "late_delivery",
        "target": late.target,
        "start": lo,
        "end": hi,
        "rows": rows,
        "due": late.due.isoformat(),
    }


def write_truth(truth_dir: Path, stamp: str, failures: list[dict], found: list[dict]) -> None:
    fail_cols = [
        "machine_id",
        "work_order_id",
        "failure_mode",
        "start",
        "end",
        "had_precursor",
        "precursor_signal",
        "precursor_start",
        "precursor_op_hours",
    ]
    defect_cols = ["date", "source", "kind", "target", "start", "end", "rows", "due"]
    write_csv(pd.DataFrame(failures, columns=fail_cols), truth_dir / "failures" / f"{stamp}.csv")
    write_csv(pd.DataFrame(found, columns=defect_cols), truth_dir / "defects" / f"{stamp}.csv")


def read_truth(truth_dir: Path) -> dict[str, pd.DataFrame]:
    """Ground truth written by generate(): {'failures': ..., 'defects': ...} over all days."""
    out = {}
    for name in ("failures", "defects"):
        files = sorted((Path(truth_dir) / name).glob("*.csv"))
        frames = [pd.read_csv(f, keep_default_na=False) for f in files]
        frames = [f for f in frames if len(f)]
        out[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out
