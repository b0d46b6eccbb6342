"""Realistic data defects, seeded and recorded: what a real historian/MES export looks like.

Rates are per tag-day (historian) or per day (MES); with them a demo tag-day fails the 95 %
completeness bar now and then (a dropout over 72 min of a 24 h day does), but most pass:
- dropout 4 %: the tag is missing for 5 min - 6 h (lognormal, median 40 min);
- BAD 0.04 % and UNCERTAIN 0.15 % of samples (OPC UA quality classes);
- out-of-range spike 3 %: 1-3 samples beyond max (or below min); ingest must reject them;
- duplicates 2 %: 1-20 rows repeated verbatim; MES files get a duplicated row on ~25 % of days;
- late delivery 30 % of days: a slice of the day withheld and delivered one or two days later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from twin.plant.model import Plant, Tag
from twin.virtual_plant.mes import DayContext
from twin.virtual_plant.timeline import key, rng_for

GOOD, UNCERTAIN, BAD = 0, 1, 2
QUALITIES = ("GOOD", "UNCERTAIN", "BAD")
STREAM_DEFECT, STREAM_LATE, STREAM_MES_DUP = 31, 32, 33


def _iso(us: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(us))).isoformat() + "Z"


def tag_defects(
    seed: int, tag: Tag, day: DayContext, ts: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    """Apply historian defects to one tag-day; returns (ts, value, quality, truth rows)."""
    rng = rng_for(seed, key(tag.tag), STREAM_DEFECT, day.start)
    u = rng.random(4)
    n = len(ts)
    quality = np.zeros(n, dtype=np.int8)
    truth: list[dict] = []

    def record(kind: str, start: int, end: int, rows: int) -> None:
        truth.append(
            {
                "date": day.date.isoformat(),
                "source": "historian",
                "kind": kind,
                "target": tag.tag,
                "start": _iso(start),
                "end": _iso(end),
                "rows": int(rows),
            }
        )

    k_bad, k_unc = rng.binomial(n, 0.0004), rng.binomial(n, 0.0015)
    idx = rng.integers(0, n, k_bad + k_unc)
    quality[idx[k_bad:]] = UNCERTAIN
    quality[idx[:k_bad]] = BAD
    if u[0] < 0.03 and n:  # out-of-range spikes
        k = int(rng.integers(1, 4))
        at = rng.integers(0, n, k)
        span = tag.max - tag.min
        high = rng.random(k) < 0.8
        value[at] = np.where(
            high,
            tag.max + rng.uniform(0.05, 0.5, k) * span,
            tag.min - rng.uniform(0.05, 0.5, k) * span,
        )
        for i in at.tolist():
            record("out_of_range", int(ts[i]), int(ts[i]), 1)
    keep = np.ones(n, dtype=bool)
    if u[1] < 0.04 and n:  # dropout
        minutes = float(np.clip(rng.lognormal(np.log(40), 1.0), 5, 360))
        start = int(ts[0] + rng.uniform(0, 1) * (ts[-1] - ts[0]))
        end = start + int(minutes * 60e6)
        keep &= ~((ts >= start) & (ts < end))
        record("dropout", start, end, n - int(keep.sum()))
    counts = keep.astype(np.int64)
    if u[2] < 0.02 and n:  # duplicated rows
        at = rng.integers(0, n, int(rng.integers(1, 21)))
        at = at[keep[at]]
        counts[at] += 1
        if len(at):
            record("duplicate", int(ts[at.min()]), int(ts[at.max()]), len(np.unique(at)))
    if not (counts == 1).all():
        ts, value, quality = (
            np.repeat(ts, counts),
            np.repeat(value, counts),
            np.repeat(quality, counts),
        )
    if quality.any():  # counted last: samples lost to a dropout are not delivered, duplicates twice
        record("bad_quality", int(ts[0]), int(ts[-1]), int(np.count_nonzero(quality)))
    return ts, value, quality, truth


@dataclass(frozen=True)
class LatePlan:
    """A slice of day `date` withheld from its files and delivered on `due`."""

    date: dt.date
    due: dt.date
    source: str  # mes_production or historian
    target: str  # line id (MES) or machine id (historian)
    start: int  # epoch seconds
    end: int


def late_plan(seed: int, plant: Plant, day: DayContext) -> LatePlan | None:
    """Which slice of the day (if any) arrives late: a few hours of one line or one machine."""
    rng = rng_for(seed, STREAM_LATE, day.start)
    u, kind_u, lag_u = rng.random(3)
    shifts = [
        (max(s, day.start), min(e, day.end))
        for s, e, *_ in day.shifts
        if e > day.start and s < day.end
    ]
    if u >= 0.30 or not shifts:
        return None
    first = min(s for s, _ in shifts)
    start = int(first + rng.uniform(0, 4 * 3600))
    end = int(start + rng.uniform(2, 4) * 3600)
    due = day.date + dt.timedelta(days=1 if lag_u < 0.7 else 2)
    if kind_u < 0.6:
        line = plant.lines[int(rng.integers(len(plant.lines)))]
        return LatePlan(day.date, due, "mes_production", line.id, start, end)
    machines = [m for m in plant.machines if m.tags] or plant.machines
    machine = machines[int(rng.integers(len(machines)))]
    return LatePlan(day.date, due, "historian", machine.id, start, end)


def mes_duplicates(seed: int, source: str, day: DayContext, n_rows: int) -> np.ndarray:
    """Row indices to duplicate in a MES file of the day (empty on most days)."""
    rng = rng_for(seed, key(source), STREAM_MES_DUP, day.start)
    if rng.random() >= 0.25 or n_rows == 0:
        return np.array([], dtype=np.int64)
    return np.unique(rng.integers(0, n_rows, int(rng.integers(1, 3))))
