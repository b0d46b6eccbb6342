"""Planned maintenance over the engine's horizon: when each machine's next preventive work is due.

Per plan, due ``every_days`` after the last PREVENTIVE order of the machine (else after the horizon
start), done at the start of the first base shift at or after the due time for ``duration_h`` wall
hours (as the virtual plant does); the next is due ``every_days`` after that. Overdue plans are done
in the first shift. The scenario ``pm_window_moved`` shifts the due dates, or moves each window to
the Saturday 06:00 on or before its due date (outside the weekday shifts).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from twin.plant.calendar import day_window, local_date_of
from twin.plant.model import Machine, Plant
from twin.simulation.horizon import hours_from
from twin.simulation.line_model import Interval
from twin.simulation.scenarios import PmWindowMoved


def pm_windows(
    plant: Plant,
    machine: Machine,
    last_pm: dt.datetime | None,
    start: dt.datetime,
    end_h: float,
    shift_starts: np.ndarray,
    moves: list[PmWindowMoved],
) -> list[Interval]:
    """Planned maintenance windows of one machine in horizon hours (module doc)."""
    shift_days = sum(m.shift_days for m in moves)
    weekend = any(m.move_to == "weekend" for m in moves)
    out: list[Interval] = []
    for plan in machine.planned_maintenance:
        anchor = hours_from(start, last_pm) if last_pm is not None else 0.0
        due = anchor + 24 * (plan.every_days + shift_days)
        prev = -math.inf
        while due < end_h:
            if weekend:
                at = _saturday_06(plant, start, due)
                if at <= prev:  # a plan shorter than a week: once per weekend
                    at = prev + 7 * 24
            else:
                i = np.searchsorted(shift_starts, max(due, 0.0), side="left")
                if i >= len(shift_starts):
                    break
                at = float(shift_starts[i])
            if at >= end_h:
                break
            out.append((at, at + plan.duration_h))
            prev, due = at, at + 24 * plan.every_days
    return sorted(out)


def _saturday_06(plant: Plant, start: dt.datetime, due_h: float) -> float:
    """Saturday 06:00 site-local on or before the due date (PM is done early, not late), but not
    before the horizon start."""
    day = local_date_of(plant, start + dt.timedelta(hours=due_h))
    saturday = day - dt.timedelta(days=(day.weekday() - 5) % 7)
    at = hours_from(start, day_window(plant, saturday).start) + 6.0
    return at if at >= 0 else at + 7 * 24


def last_pm(work_orders: pd.DataFrame | None, start: dt.datetime) -> dict[str, dt.datetime]:
    if work_orders is None or len(work_orders) == 0:
        return {}
    wo = work_orders
    kind = wo["work_order_type"] if "work_order_type" in wo.columns else wo["type"]
    t = pd.to_datetime(wo["started_at"] if "started_at" in wo.columns else wo["start_ts"])
    pm = pd.DataFrame({"machine_id": wo["machine_id"], "t": t})[kind.str.upper() == "PREVENTIVE"]
    pm = pm[pm["t"] < pd.Timestamp(start)]
    return {str(k): v.to_pydatetime() for k, v in pm.groupby("machine_id")["t"].max().items()}
