"""Seeded tiny landing batches for tests: valid rows for the demo plant, plus named defects.

Each maker returns CSV text (or a DataFrame with ``as_frame=True``); ``defects`` appends or alters
rows so that a test can name exactly what it expects to be rejected.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from twin.paths import DEMO_PLANT, TwinPaths
from twin.plant.model import Plant, load_plant

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, early shift start in UTC (07:00 Berlin)
NOW = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # the load time tests pass as ``now``


def demo_plant() -> Plant:
    return load_plant(DEMO_PLANT)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_historian_batch(
    rows: int = 20,
    *,
    defects: tuple[str, ...] = (),
    seed: int = 0,
    machine: str = "L1-M01",
    as_frame: bool = False,
) -> str | pd.DataFrame:
    """``rows`` good samples spread over the machine's tags at their periods, then the defects.

    defects: nan, inf, unknown_tag, out_of_range, duplicate_row, duplicate_key, future, bad_ts,
    bad_quality, lower_quality, missing_value.
    """
    plant = demo_plant()
    tags = plant.machine(machine).tags
    rng = np.random.default_rng(seed)
    records = []
    for i in range(rows):
        tag = tags[i % len(tags)]
        ts = T0 + timedelta(seconds=tag.period_s * (i // len(tags)))
        value = round(float(rng.uniform(tag.min, tag.max) * 0.5 + tag.min * 0.5), 3)
        records.append({"tag": tag.tag, "ts": _iso(ts), "value": value, "quality": "GOOD"})
    first = records[0]
    extra = {
        "nan": {**first, "ts": _iso(T0 - timedelta(seconds=1)), "value": "NaN"},
        "inf": {**first, "ts": _iso(T0 - timedelta(seconds=2)), "value": "inf"},
        "unknown_tag": {**first, "tag": "L9-M99.ghost"},
        "out_of_range": {**first, "ts": _iso(T0 - timedelta(seconds=3)), "value": tags[0].max + 1},
        "duplicate_row": dict(first),
        "duplicate_key": {**first, "value": float(first["value"]) + 0.5},
        "future": {**first, "ts": _iso(NOW + timedelta(hours=1))},
        "bad_ts": {**first, "ts": "yesterday noon"},
        "bad_quality": {**first, "ts": _iso(T0 - timedelta(seconds=4)), "quality": "MAYBE"},
        "lower_quality": {**first, "ts": _iso(T0 - timedelta(seconds=5)), "quality": "uncertain"},
        "missing_value": {**first, "ts": _iso(T0 - timedelta(seconds=6)), "value": ""},
    }
    for defect in defects:
        records.append(extra[defect])
    frame = pd.DataFrame(records, columns=["tag", "ts", "value", "quality"])
    return frame if as_frame else frame.to_csv(index=False)


def make_mes_states_batch(
    rows: int = 6, *, defects: tuple[str, ...] = (), machine: str = "L1-M01"
) -> str:
    """Back-to-back 30-minute states; defects: end_before_start, bad_state, unknown_machine, duplicate_key."""
    states = ["RUNNING", "IDLE", "SETUP", "RUNNING", "UNPLANNED_DOWNTIME", "RUNNING"]
    records = [
        {
            "machine_id": machine,
            "state": states[i % len(states)],
            "start_ts": _iso(T0 + timedelta(minutes=30 * i)),
            "end_ts": _iso(T0 + timedelta(minutes=30 * (i + 1))),
            "reason_code": "R1" if i % 2 else "",
        }
        for i in range(rows)
    ]
    first = records[0]
    extra = {
        "end_before_start": {
            **first,
            "start_ts": _iso(T0 - timedelta(hours=1)),
            "end_ts": _iso(T0 - timedelta(hours=2)),
        },
        "bad_state": {**first, "start_ts": _iso(T0 - timedelta(hours=3)), "state": "NAPPING"},
        "unknown_machine": {**first, "machine_id": "L9-M99"},
        "duplicate_key": {**first, "state": "IDLE"},
    }
    records += [extra[d] for d in defects]
    return pd.DataFrame(records).to_csv(index=False)


def make_mes_production_batch(
    rows: int = 4, *, defects: tuple[str, ...] = (), machine: str = "L1-M01"
) -> str:
    """Hourly counts; defects: negative_qty, fractional_qty, unknown_product."""
    records = [
        {
            "machine_id": machine,
            "start_ts": _iso(T0 + timedelta(hours=i)),
            "end_ts": _iso(T0 + timedelta(hours=i + 1)),
            "product_id": "P100",
            "work_order_id": f"WO-{100 + i}",
            "good_qty": 80 + i,
            "scrap_qty": i % 3,
        }
        for i in range(rows)
    ]
    first = records[0]
    extra = {
        "negative_qty": {
            **first,
            "start_ts": _iso(T0 - timedelta(hours=2)),
            "end_ts": _iso(T0 - timedelta(hours=1)),
            "good_qty": -1,
        },
        "fractional_qty": {
            **first,
            "start_ts": _iso(T0 - timedelta(hours=4)),
            "end_ts": _iso(T0 - timedelta(hours=3)),
            "scrap_qty": "2.5",
        },
        "unknown_product": {**first, "product_id": "P999"},
    }
    records += [extra[d] for d in defects]
    return pd.DataFrame(records).to_csv(index=False)


def make_cmms_batch(rows: int = 3, *, defects: tuple[str, ...] = ()) -> str:
    """Work orders, the last still open (no end_ts); defects: bad_type, duplicate_wo."""
    records = []
    for i in range(rows):
        start = T0 + timedelta(hours=5 * i)
        records.append(
            {
                "work_order_id": f"CM-{i}",
                "machine_id": "L1-M02",
                "type": "corrective" if i % 2 == 0 else "PREVENTIVE",
                "failure_mode": "bearing_wear" if i % 2 == 0 else "",
                "reported_ts": _iso(start - timedelta(minutes=10)),
                "start_ts": _iso(start),
                "end_ts": "" if i == rows - 1 else _iso(start + timedelta(hours=2)),
            }
        )
    extra = {
        "bad_type": {**records[0], "work_order_id": "CM-X", "type": "COSMETIC"},
        "duplicate_wo": {**records[0], "failure_mode": "tool_breakage"},
    }
    records += [extra[d] for d in defects]
    return pd.DataFrame(records).to_csv(index=False)


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def land(
    paths: TwinPaths, source: str, name: str, content: str | bytes, *, mtime: float | None = None
) -> None:
    """Drop a file into landing/<source>/ the way writers do: write ``.tmp``, then rename."""
    folder = paths.landing_dir(source)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{name}.tmp"
    if isinstance(content, str):
        tmp.write_text(content, encoding="utf-8")
    else:
        tmp.write_bytes(content)
    target = folder / name
    tmp.rename(target)
    if mtime is not None:
        import os

        os.utime(target, (mtime, mtime))
