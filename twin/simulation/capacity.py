"""Simulation results to the published capacity tables: ``capacity_supply`` and ``constraint_map``.

The engine runs on day buckets (site-local midnights, ``twin.simulation.horizon.day_edges``); week buckets
are sums of the days of one Monday-started calendar week, **per replication**, and the weekly
quantiles are taken over those sums (a quantile of a sum is not the sum of quantiles).

Buckets: ``bucket_start`` is the first site-local date in the bucket, ``bucket_end`` the date after
its last one (**exclusive**), so a day bucket is [d, d + 1) and a whole week [Monday, next Monday).
The horizon starts at the last data time, so the first day and week are usually partial: they
keep only the time inside the horizon and say so (``is_partial``, ``covered_from_at``: where the
coverage begins, naive UTC; the bucket's local midnight for whole buckets). A week is always its
calendar week: ``bucket_start`` its Monday, ``bucket_end`` the next Monday, partial or not (DESIGN
§3.4: weeks start Monday); a partial first day keeps ``bucket_start`` = its date.

Columns (DESIGN §3.4, lineage columns are added at publication):

* ``calendar_hours``: scheduled shift hours in the bucket (scenario shifts included, holidays not).
* ``planned_downtime_hours``: shift hours inside planned windows. Machine: its maintenance windows
  and line-down time. Line: the union of line-down and every machine's maintenance windows (the
  buffers hold minutes of work, so any planned stop of a station stops the line).
* Machine rows (standalone capacity: what the machine could make if never starved or blocked):
  in-line, failures age only operating time; standalone the machine would run all its
  ``calendar - planned`` hours, so its unplanned downtime in a replication is that time x the share
  of down hours in (operating + down) hours it had in the line that day.
  ``rate_units_per_hour`` = machines x ideal rate x performance x (1 - scrap) x changeover share
  (operating / (operating + setup) hours), so ``capacity_units = available_hours x rate`` exactly.
* Line rows: ``capacity_units`` = the quantile of simulated good output; ``rate_units_per_hour`` =
  the line's good-output rate with every station up (its slowest station, ``station_capacity``);
  ``available_hours`` = capacity_units / rate (equivalent hours at full line rate, capped at
  calendar - planned: on the first day the initial buffer stock can drain faster than the rate).
* ``available_hours`` and ``capacity_units`` are the p10/p50/p90 over replications;
  ``expected_unplanned_downtime_hours`` is the mean over replications (the same in the three rows),
  so calendar - planned - expected unplanned = mean available hours. Line: everything the line
  lost beyond its plan (failures, repairs, changeovers and the starving/blocking they cause).
* ``bottleneck_share``: machine: share of the line's open time the machine was the momentary
  bottleneck (mean over replications); line rows carry 1.0 (the line is its own constraint).
* Declared stations (plant model ``station``: parallel machines at one step, simulated as one
  engine station, ``twin.simulation.line_params.combine_station``): every machine of the station
  gets its machine row, carrying the station's per-machine figures: hours of one of its machines,
  the station's rate divided by its plant machines (so the rows add up to the station, machines
  added by a scenario included) and the station's ``bottleneck_share``; ``constraint_map`` gives
  each the station's share, ranked in flow order among themselves (ranks stay unique).
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd

from twin.plant.calendar import day_window, local_date_of
from twin.plant.model import Plant
from twin.simulation.engine import simulate_many
from twin.simulation.horizon import covered_from
from twin.simulation.line_model import LineParams, SimulationResult, intersect, overlap, union
from twin.simulation.line_params import station_capacity
from twin.simulation.weekly_variation import apply_weekly_variation

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
CAPACITY_COLUMNS = [
    "site_id",
    "line_id",
    "resource_id",
    "resource_level",
    "bucket_grain",
    "bucket_start",
    "bucket_end",
    "scenario_id",
    "quantile",
    "calendar_hours",
    "planned_downtime_hours",
    "expected_unplanned_downtime_hours",
    "available_hours",
    "capacity_units",
    "uom",
    "rate_units_per_hour",
    "bottleneck_share",
    "is_partial",
    "covered_from_at",
]
CONSTRAINT_COLUMNS = [
    "site_id",
    "line_id",
    "scenario_id",
    "bucket_grain",
    "bucket_start",
    "bucket_end",
    "machine_id",
    "bottleneck_share",
    "rank",
]


def simulate_lines(
    lines: dict[str, LineParams], replications: int, seed: int
) -> dict[str, SimulationResult]:
    """All lines of one scenario in one vectorised batch (same day buckets).

    The lines' week-to-week variation (``LineParams.weekly_cv``) then scales each replication's
    weekly output (``twin.simulation.weekly_variation``), so the P10-P90 band carries it.
    """
    results = simulate_many(list(lines.values()), replications, seed)
    for i, (line, res) in enumerate(zip(lines.values(), results, strict=True)):
        res.output = apply_weekly_variation(
            res.output, res.bucket_edges, line.weekly_cv, seed, i, line.bucket_week
        )
    return dict(zip(lines, results, strict=True))


def capacity_tables(
    plant: Plant,
    lines: dict[str, LineParams],
    results: dict[str, SimulationResult],
    scenario_id: str,
    start: dt.datetime,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(capacity_supply, constraint_map) rows of one scenario; see the module docstring."""
    supply, constraints = [], []
    for line_id, line in lines.items():
        res = results[line_id]
        for grain, agg, starts, ends in _grains(plant, res.bucket_edges, start):
            cover = _coverage(plant, start, starts)
            keys = {
                "site_id": plant.site.id,
                "line_id": line_id,
                "bucket_grain": grain,
                "scenario_id": scenario_id,
            }
            for rows in (
                _line_rows(line, res, agg, starts, ends, keys),
                _machine_rows(line, res, agg, starts, ends, keys),
            ):
                supply.append(rows.join(cover, on="bucket_start"))
            constraints.append(_constraint_rows(line, res, agg, starts, ends, keys))
    capacity = pd.concat(supply, ignore_index=True)[CAPACITY_COLUMNS]
    return capacity, pd.concat(constraints, ignore_index=True)[CONSTRAINT_COLUMNS]


def _grains(plant: Plant, edges: np.ndarray, start: dt.datetime):
    """Per grain: (name, day-to-bucket 0/1 matrix (days, buckets), start dates, end dates)."""
    lengths = np.diff(edges)
    if lengths.max() > 25 + 1e-6:
        raise ValueError("capacity_tables needs day buckets (edges at site-local midnights)")
    dates = [local_date_of(plant, start + dt.timedelta(hours=float(e))) for e in edges[:-1]]
    one = dt.timedelta(days=1)
    yield "day", np.eye(len(dates)), dates, [d + one for d in dates]
    weeks = [
        list(g) for _, g in itertools.groupby(range(len(dates)), key=lambda i: _monday(dates[i]))
    ]
    agg = np.zeros((len(dates), len(weeks)))
    for w, days in enumerate(weeks):
        agg[days, w] = 1.0
    # a week is its calendar week, Monday to Monday (DESIGN §3.4), even when the horizon covers only
    # the rest of it: is_partial and covered_from_at say how much (``_coverage``)
    mondays = [_monday(dates[w[0]]) for w in weeks]
    yield "week", agg, mondays, [m + 7 * one for m in mondays]


def _coverage(plant: Plant, start: dt.datetime, starts) -> pd.DataFrame:
    """Per bucket (index bucket_start): ``is_partial`` and ``covered_from_at`` (naive UTC).

    A bucket is partial when the horizon starts after its first local midnight: the day of the
    horizon start when that is not a local midnight (the rest of the last data day), the week of
    the horizon start unless that is its Monday 00:00 (the rest of the current week); the horizon
    always ends at a Monday 00:00. ``covered_from_at`` is where the coverage begins: the bucket's
    first local midnight, or the horizon start.
    """
    frame = pd.DataFrame(
        {
            "bucket_start": starts,
            "covered_from_at": [covered_from(plant, start, d) for d in starts],
        }
    )
    midnight = pd.Series([day_window(plant, d).start for d in starts])
    frame["is_partial"] = frame["covered_from_at"] > midnight
    return frame.set_index("bucket_start")[["is_partial", "covered_from_at"]]


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _quantiles(x: np.ndarray) -> np.ndarray:
    """(replications, buckets, ...) -> (3, buckets, ...) at p10, p50, p90."""
    return np.quantile(x, list(QUANTILES.values()), axis=0)


def _frame(keys: dict, starts, ends, resource: dict, per_q: dict, shared: dict) -> pd.DataFrame:
    """Rows for quantiles x buckets (x resources): ``per_q`` arrays are (3, B[, N]), ``shared``
    arrays (B[, N]); ``resource`` maps column -> (N,) values (or scalars for one resource)."""
    q_arr = next(iter(per_q.values()))
    n_b = q_arr.shape[1]
    n_r = q_arr.shape[2] if q_arr.ndim == 3 else 1
    shape = (len(QUANTILES), n_b, n_r)
    cols = {
        k: np.broadcast_to(np.asarray(v).reshape(1, 1, -1), shape).ravel()
        for k, v in resource.items()
    }
    cols["quantile"] = np.broadcast_to(np.array(list(QUANTILES)).reshape(-1, 1, 1), shape).ravel()
    cols["bucket_start"] = np.broadcast_to(
        np.array(starts, dtype=object).reshape(1, -1, 1), shape
    ).ravel()
    cols["bucket_end"] = np.broadcast_to(
        np.array(ends, dtype=object).reshape(1, -1, 1), shape
    ).ravel()
    for k, v in per_q.items():
        cols[k] = np.asarray(v).reshape(shape).ravel()
    for k, v in shared.items():
        cols[k] = np.broadcast_to(np.asarray(v, float).reshape(1, n_b, n_r), shape).ravel()
    return pd.DataFrame({**keys, **cols, "uom": "units"})


def _line_rows(line, res, agg, starts, ends, keys) -> pd.DataFrame:
    rate = float(station_capacity(line, availability=False).min())
    calendar = res.open_hours @ agg
    shifts, edges = union(line.shifts), np.asarray(line.bucket_edges)
    stops = union(line.line_down, *(m.planned for m in line.machines))
    planned = overlap(intersect(shifts, stops), edges[:-1], edges[1:]) @ agg
    output = res.output @ agg  # (R, B): weekly sums per replication
    capacity = _quantiles(output)
    available = np.minimum(capacity / rate, calendar - planned)
    unplanned = np.maximum(calendar - planned - output.mean(axis=0) / rate, 0.0)
    return _frame(
        {**keys, "resource_level": "line"},
        starts,
        ends,
        {"resource_id": line.id},
        {"available_hours": available, "capacity_units": capacity},
        {
            "calendar_hours": calendar,
            "planned_downtime_hours": planned,
            "expected_unplanned_downtime_hours": unplanned,
            "rate_units_per_hour": np.full(len(starts), rate),
            "bottleneck_share": np.ones(len(starts)),
        },
    )


def _expand(line) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(station index, machine id, machines at the station) per machine row: one row per plant
    machine, a declared station's machines each carrying the station's per-machine figures."""
    members = line.station_members
    idx = np.array([s for s, ids in enumerate(members) for _ in ids], dtype=int)
    ids = np.array([i for x in members for i in x], dtype=object)
    return idx, ids, np.array([len(members[s]) for s in idx], float)


def _machine_rows(line, res, agg, starts, ends, keys) -> pd.DataFrame:
    counts = np.asarray(line.counts, float)
    idx, ids, members = _expand(line)
    # a station's rate shared by its plant machines (a scenario's added machines included)
    rate = (
        np.array(
            [
                c * m.effective_rate * (1 - m.scrap) * _setup_share(m)
                for m, c in zip(line.machines, counts, strict=True)
            ]
        )[idx]
        / members
    )
    calendar = res.open_hours[:, None]  # (K, 1)
    planned = res.hours["planned"][0][:, idx]  # (K, N), the same in every replication
    down, operating = res.hours["down"][..., idx], res.hours["operating"][..., idx]  # (R, K, N)
    busy = down + operating
    down_share = np.divide(down, busy, out=np.zeros_like(down), where=busy > 1e-9)
    unplanned = np.maximum(calendar - planned, 0.0)[None] * down_share  # standalone, per day
    unplanned_b = np.einsum("rkn,kb->rbn", unplanned, agg)
    calendar_b = np.broadcast_to(res.open_hours @ agg, (len(rate), len(starts))).T
    planned_b = agg.T @ planned
    available = _quantiles(calendar_b - planned_b - unplanned_b)  # (3, B, N)
    bottleneck = np.einsum("rkn,kb->rbn", res.bottleneck, agg).mean(axis=0)
    total = bottleneck.sum(axis=1, keepdims=True)
    share = np.divide(bottleneck, total, out=np.zeros_like(bottleneck), where=total > 0)
    share = share[:, idx]  # a declared station's machines each carry the station's share
    return _frame(
        {**keys, "resource_level": "machine"},
        starts,
        ends,
        {"resource_id": ids},
        {"available_hours": available, "capacity_units": available * rate},
        {
            "calendar_hours": calendar_b,
            "planned_downtime_hours": planned_b,
            "expected_unplanned_downtime_hours": unplanned_b.mean(axis=0),
            "rate_units_per_hour": np.broadcast_to(rate, share.shape),
            "bottleneck_share": share,
        },
    )


def _setup_share(m) -> float:
    if m.setup_every_h is None:
        return 1.0
    return m.setup_every_h / (m.setup_every_h + m.setup_h)


def _constraint_rows(line, res, agg, starts, ends, keys) -> pd.DataFrame:
    bottleneck = np.einsum("rkn,kb->rbn", res.bottleneck, agg).mean(axis=0)  # (B, N)
    total = bottleneck.sum(axis=1, keepdims=True)
    share = np.divide(bottleneck, total, out=np.zeros_like(bottleneck), where=total > 0)
    idx, ids, _ = _expand(line)  # a declared station's machines each carry the station's share
    share = share[:, idx]
    # rank 1 = the most constraining; ties (e.g. closed days, a station's machines) keep the
    # flow order, so ranks stay unique per line, scenario and bucket
    order = np.argsort(-share, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, share.shape[1] + 1)[None, :], axis=1)
    n_b, n = share.shape
    return pd.DataFrame(
        {
            **keys,
            "bucket_start": np.repeat(np.array(starts, dtype=object), n),
            "bucket_end": np.repeat(np.array(ends, dtype=object), n),
            "machine_id": np.tile(ids, n_b),
            "bottleneck_share": share.ravel(),
            "rank": rank.ravel(),
        }
    )
