"""The planning horizon in hours: day buckets at site-local midnights and shift windows.

Time is hours from the horizon ``start`` (naive UTC), as everywhere in the engine parameters. The
horizon starts where the data ends (``twin.simulation.scenario_run.horizon_start``), so its first
day and its first week are usually partial: the first day bucket runs from ``start`` to the next
local midnight, the first week from ``start`` to the next Monday. ``weeks`` whole Monday-started
weeks follow (none is partial when ``start`` is a Monday 00:00 site time).
"""

from __future__ import annotations

import datetime as dt

from twin.plant.calendar import day_window, local_date_of, shift_windows
from twin.plant.model import Plant, Shift


def day_edges(
    plant: Plant, start: dt.datetime, weeks: int
) -> tuple[tuple[float, ...], list[dt.date]]:
    """Bucket edges (hours from ``start``) at site-local midnights, and the local date of each day.

    The horizon runs from ``start`` to the Monday 00:00 that ends ``weeks`` whole weeks after the
    week of ``start`` (the rest of that week comes first when ``start`` is not its Monday 00:00).
    """
    first = local_date_of(plant, start)
    monday = first - dt.timedelta(days=first.weekday())
    whole = hours_from(start, day_window(plant, monday).start) == 0
    end = monday + dt.timedelta(weeks=weeks + (0 if whole else 1))
    dates = [first + dt.timedelta(days=i) for i in range((end - first).days)]
    edges = [0.0] + [hours_from(start, day_window(plant, d).end) for d in dates]
    return tuple(edges), dates


def covered_from(plant: Plant, start: dt.datetime, day: dt.date) -> dt.datetime:
    """Where the horizon's coverage of local ``day`` begins (naive UTC): its midnight, or ``start``."""
    return max(day_window(plant, day).start, start)


def hours_from(start: dt.datetime, t: dt.datetime) -> float:
    """Hours from ``start`` to ``t``."""
    return (t - start).total_seconds() / 3600


def shift_hours(plant: Plant, shifts: list[Shift], start: dt.datetime, dates: list[dt.date]):
    """Windows of ``shifts`` over the horizon as (start_h, end_h), clipped to it."""
    calendar = plant.calendar.model_copy(update={"shifts": shifts})
    cal_plant = plant.model_copy(update={"calendar": calendar})
    end = hours_from(start, day_window(plant, dates[-1]).end)
    windows = shift_windows(cal_plant, dates[0] - dt.timedelta(days=1), dates[-1])
    out = [
        (max(hours_from(start, w.start), 0.0), min(hours_from(start, w.end), end)) for w in windows
    ]
    return [(a, b) for a, b in out if b > a]
