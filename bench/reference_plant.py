"""A plant the twin did not generate: the SimPy reference model's history as landing files.

``bench/fidelity.py --generator reference`` uses it. The virtual plant (``twin generate``) shares the
twin's own assumptions (its MES books starving and blocking as IDLE, its speed losses are known);
this plant is simulated by the SimPy reference (``twin.simulation.reference``) with machine laws the
twin never sees, and its MES books only what many real MES book (DESIGN §3.3):

* ``mes_states``: RUNNING while the machine is processing, starved or blocked (a starved or blocked
  machine is "switched on and in automatic", so many MES call it running), UNPLANNED_DOWNTIME while
  it is broken, OFF outside shifts. No IDLE, no SETUP, no PLANNED_DOWNTIME;
* ``mes_production``: good and scrap parts per machine and hour (one product per line);
* ``cmms``: one CORRECTIVE work order per failure, from the failure to the machine's restart in
  wall-clock time (a repair that a shift end interrupts resumes at the next shift start, so its
  work order spans the night or the weekend);
* no historian (the failure-risk model then falls back to the history's failure rates).

The plant (``PLANT_RAW``): three serial lines with buffers, 3-4 machines each, whose bottleneck is
in a different place on each line; every machine has its own speed loss (``TRUE``: the share of
ideal speed it really runs at), scrap, wear-out failures (Weibull shape 2.5 in operating hours) and
repairs of 1-2.5 h of open time. The truth is in ``TRUE`` and never written to the landing files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from twin.plant.calendar import day_window, shift_windows
from twin.plant.model import Plant, parse_plant
from twin.simulation.line_model import Distribution, LineParams, MachineParams, Weibull, union
from twin.simulation.reference import trace

DAYS = ["mon", "tue", "wed", "thu", "fri"]
SHIFTS = [
    {"name": "first", "start": "06:00", "end": "14:00", "days": DAYS},
    {"name": "second", "start": "14:00", "end": "22:00", "days": DAYS},
]


def _machine(machine_id: str, cycle_s: float) -> dict:
    return {"id": machine_id, "type": "station", "ideal_cycle_time_s": {"W": cycle_s}}


# One product per line ("W" made by every machine; the plant makes one family).
PLANT_RAW = {
    "site": {"id": "REFPLANT", "name": "reference-simulated plant", "timezone": "America/Chicago"},
    "calendar": {"shifts": SHIFTS},
    "products": [{"id": "W", "family": "widgets"}],
    "lines": [
        {
            "id": "R1",
            "buffer_capacity": 6,
            "machines": [
                _machine("R1-CUT", 30.0),
                _machine("R1-WELD", 38.0),
                _machine("R1-GRIND", 26.0),
                _machine("R1-PACK", 28.0),
            ],
        },
        {
            "id": "R2",
            "buffer_capacity": 10,
            "machines": [
                _machine("R2-PRESS", 44.0),
                _machine("R2-DRILL", 40.0),
                _machine("R2-ASSY", 50.0),
            ],
        },
        {
            "id": "R3",
            "buffer_capacity": 4,
            "machines": [
                _machine("R3-MOULD", 34.0),
                _machine("R3-TRIM", 24.0),
                _machine("R3-CHECK", 27.0),
            ],
        },
    ],
}


@dataclasses.dataclass(frozen=True)
class Truth:
    """What the machine really does (never in the landing files)."""

    speed: float  # share of ideal speed while processing
    scrap: float
    mtbf_op_h: float  # mean operating hours between failures (Weibull shape 2.5)


TRUE: dict[str, Truth] = {
    "R1-CUT": Truth(0.95, 0.005, 45.0),
    "R1-WELD": Truth(0.92, 0.010, 35.0),
    "R1-GRIND": Truth(0.96, 0.020, 60.0),
    "R1-PACK": Truth(0.97, 0.000, 80.0),
    "R2-PRESS": Truth(0.93, 0.010, 40.0),
    "R2-DRILL": Truth(0.95, 0.005, 55.0),
    "R2-ASSY": Truth(0.94, 0.015, 30.0),
    "R3-MOULD": Truth(0.90, 0.020, 30.0),
    "R3-TRIM": Truth(0.96, 0.005, 70.0),
    "R3-CHECK": Truth(0.97, 0.010, 90.0),
}
SHAPE = 2.5
REPAIR_H = (1.0, 2.5)
MODES = ("bearing_wear", "tool_wear", "seal_leak")


@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    """Repairs of ``lo``-``hi`` open hours (the reference only samples; the twin never sees it)."""

    lo: float
    hi: float

    @property
    def mean(self) -> float:  # type: ignore[override]
        return (self.lo + self.hi) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.lo, self.hi, size)


def plant() -> Plant:
    return parse_plant(PLANT_RAW)


def write_plant(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(PLANT_RAW, sort_keys=False))
    return path


def _start_utc(p: Plant, first: dt.date) -> dt.datetime:
    return day_window(p, first).start


def _line_params(p: Plant, line_index: int, start: dt.datetime, days: int) -> LineParams:
    line = p.lines[line_index]
    first = start_date(p, start)
    windows = shift_windows(p, first, first + dt.timedelta(days=days - 1))
    shifts = union([(_hours(start, w.start), _hours(start, w.end)) for w in windows])
    horizon = days * 24.0  # the plant's window has no DST change: local days are 24 h
    machines = []
    for m in line.machines:
        t = TRUE[m.id]
        machines.append(
            MachineParams(
                id=m.id,
                rate_per_h=3600.0 / m.ideal_cycle_time_s["W"],
                performance=t.speed,
                scrap=t.scrap,
                tbf=Weibull(SHAPE, t.mtbf_op_h / math.gamma(1 + 1 / SHAPE)),
                repair=Uniform(*REPAIR_H),
            )
        )
    return LineParams(
        id=line.id,
        machines=tuple(machines),
        buffers=(line.buffer_capacity,) * (len(machines) - 1),
        shifts=tuple((float(a), float(b)) for a, b in shifts),
        horizon_h=horizon,
        bucket_edges=(0.0, horizon),
    )


def _hours(start: dt.datetime, t: dt.datetime) -> float:
    return (t - start).total_seconds() / 3600


def start_date(p: Plant, start: dt.datetime) -> dt.date:
    return start.replace(tzinfo=dt.UTC).astimezone(p.tz).date()


def simulate_history(first: dt.date, days: int, seed: int) -> dict[str, pd.DataFrame]:
    """``days`` site-local days of the plant from ``first`` (a Monday): landing frames by source."""
    p = plant()
    start = _start_utc(p, first)
    states, production, cmms = [], [], []
    for i, line in enumerate(p.lines):
        params = _line_params(p, i, start, days)
        run = trace(params, np.random.default_rng([seed, i]), sample_h=1.0)
        shifts = union(params.shifts)
        for u in run.units:
            m = line.machines[u.station]
            states.append(_states(m.id, u.log, shifts, params.horizon_h, start))
            cmms.extend(_work_orders(m.id, u.log, shifts, start, seed))
            production.append(_production(m.id, line.id, run.done[u.station], start))
    return {
        "mes_states": pd.concat(states, ignore_index=True),
        "mes_production": pd.concat(production, ignore_index=True),
        "cmms": pd.DataFrame(cmms),
    }


def _states(machine_id: str, log, shifts: np.ndarray, end: float, start: dt.datetime):
    """RUNNING / UNPLANNED_DOWNTIME inside shifts, OFF outside, merged."""
    times = [t for t, _ in log] + [end]
    pieces: list[tuple[float, float, str]] = []
    edges = [0.0, *shifts.ravel().tolist(), end]
    closed = [(edges[k], edges[k + 1]) for k in range(0, len(edges) - 1, 2)]
    for a, b in closed:
        if b > a:
            pieces.append((a, b, "OFF"))
    for (t0, name), t1 in zip(log, times[1:], strict=True):
        state = "UNPLANNED_DOWNTIME" if name == "down" else "RUNNING"
        for s, e in shifts:
            a, b = max(t0, s), min(t1, e)
            if b > a:
                pieces.append((a, b, state))
    pieces.sort()
    merged: list[list] = []
    for a, b, state in pieces:
        if merged and merged[-1][2] == state and abs(merged[-1][1] - a) < 1e-9:
            merged[-1][1] = b
        else:
            merged.append([a, b, state])
    # cut at site-local midnights (every 24 h here): each day's file holds that day's states, so
    # the weekend's OFF does not reach into the next week (the twin's last data day)
    cut = []
    for a, b, state in merged:
        while math.floor(a / 24 + 1e-9) < math.floor(b / 24 - 1e-9):
            mid = (math.floor(a / 24 + 1e-9) + 1) * 24.0
            cut.append((a, mid, state))
            a = mid
        cut.append((a, b, state))
    rows = [
        {
            "machine_id": machine_id,
            "state": state,
            "start_ts": _ts(start, a),
            "end_ts": _ts(start, b),
            "reason_code": "BREAKDOWN" if state == "UNPLANNED_DOWNTIME" else "",
        }
        for a, b, state in cut
        if b - a > 1 / 3600
    ]
    return pd.DataFrame(rows)


def _work_orders(machine_id: str, log, shifts: np.ndarray, start: dt.datetime, seed: int):
    """One CORRECTIVE order per failure; still open (no end) when the repair outlasts the window."""
    rng = np.random.default_rng([seed, sum(map(ord, machine_id))])
    out = []
    for k, ((t0, name), (t1, _)) in enumerate(itertools.pairwise([*log, (None, None)])):
        if name != "down":
            continue
        out.append(
            {
                "work_order_id": f"WO-{machine_id}-{k:05d}",
                "machine_id": machine_id,
                "type": "CORRECTIVE",
                "failure_mode": MODES[int(rng.integers(len(MODES)))],
                "reported_ts": _ts(start, t0),
                "start_ts": _ts(start, t0),
                "end_ts": _ts(start, t1) if t1 is not None else "",
            }
        )
    return out


def _production(machine_id: str, line_id: str, done, start: dt.datetime) -> pd.DataFrame:
    """Good and scrap parts per hour of the clock."""
    if not done:
        return pd.DataFrame()
    t = np.array([x for x, _ in done])
    bad = np.array([s for _, s in done])
    hour = np.floor(t - 1e-9).astype(int)
    frame = pd.DataFrame({"hour": hour, "bad": bad})
    agg = frame.groupby("hour")["bad"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "machine_id": machine_id,
            "start_ts": [_ts(start, float(h)) for h in agg.index],
            "end_ts": [_ts(start, float(h) + 1) for h in agg.index],
            "product_id": "W",
            "work_order_id": [f"PO-{line_id}-{h // 24:04d}" for h in agg.index],
            "good_qty": (agg["size"] - agg["sum"]).astype(int).to_numpy(),
            "scrap_qty": agg["sum"].astype(int).to_numpy(),
        }
    )


def _ts(start: dt.datetime, hours: float) -> str:
    t = start + dt.timedelta(hours=hours)
    return t.replace(microsecond=0).isoformat() + "Z"


def write_landing(frames: dict[str, pd.DataFrame], landing: Path, p: Plant) -> int:
    """One CSV per source and site-local day (``<source>_<date>.csv``, by each row's start)."""
    written = 0
    for source, frame in frames.items():
        ts = "start_ts"
        day = pd.to_datetime(frame[ts].str.rstrip("Z")).dt.tz_localize("UTC").dt.tz_convert(p.tz)
        folder = landing / source
        folder.mkdir(parents=True, exist_ok=True)
        for date, rows in frame.groupby(day.dt.date):
            tmp = folder / f".{source}_{date}.csv"
            rows.to_csv(tmp, index=False)
            tmp.rename(folder / f"{source}_{date}.csv")
            written += 1
    return written
