"""The plant model as reference tables for the warehouse (lake/plant/*.parquet, read by dbt).

dbt cannot read YAML or apply time zones reliably, so the calendar is resolved here: every site-local
day and every shift comes with its UTC bounds, which makes DST days and shifts across midnight plain
interval arithmetic downstream.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from twin.plant.calendar import day_window, shift_windows
from twin.plant.model import Plant

# The calendar is materialised over a fixed, generous span: ~16 years is ~6,000 day rows.
CALENDAR_FIRST = dt.date(2020, 1, 1)
CALENDAR_LAST = dt.date(2035, 12, 31)


def plant_tables(
    plant: Plant, first: dt.date = CALENDAR_FIRST, last: dt.date = CALENDAR_LAST
) -> dict[str, pd.DataFrame]:
    """Reference tables keyed by name: lines, machines, tags, cycle_times, planned_maintenance, days, shifts."""
    site = plant.site.id
    lines = pd.DataFrame(
        [
            {
                "site_id": site,
                "line_id": line.id,
                "buffer_capacity": line.buffer_capacity,
                "machine_count": len(line.machines),
            }
            for line in plant.lines
        ]
    )
    machines = pd.DataFrame(
        [
            {
                "site_id": site,
                "line_id": line.id,
                "machine_id": m.id,
                "machine_type": m.type,
                "position": position,
                # the step of the line: machines sharing a station work in parallel there
                "station_id": m.station or m.id,
                "changeover_min": float(m.changeover_min),
            }
            for line in plant.lines
            for position, m in enumerate(line.machines, start=1)
        ]
    )
    tags = pd.DataFrame(
        [
            {
                "machine_id": m.id,
                "tag": t.tag,
                "signal": t.signal,
                "unit": t.unit,
                "period_s": float(t.period_s),
                "min_value": float(t.min),
                "max_value": float(t.max),
            }
            for m, t in plant.iter_tags()
        ],
        columns=["machine_id", "tag", "signal", "unit", "period_s", "min_value", "max_value"],
    )
    cycle_times = pd.DataFrame(
        [
            {"machine_id": m.id, "product_id": product, "ideal_cycle_time_s": float(seconds)}
            for m in plant.machines
            for product, seconds in m.ideal_cycle_time_s.items()
        ]
    )
    maintenance = pd.DataFrame(
        [
            {
                "machine_id": m.id,
                "every_days": float(pm.every_days),
                "duration_h": float(pm.duration_h),
            }
            for m in plant.machines
            for pm in m.planned_maintenance
        ],
        columns=["machine_id", "every_days", "duration_h"],
    )
    holidays = set(plant.calendar.holidays)
    day_rows = []
    day = first
    while day <= last:
        window = day_window(plant, day)
        day_rows.append(
            {
                "date": day,
                "day_start_utc": window.start,
                "day_end_utc": window.end,
                "hours": window.hours,
                "is_holiday": day in holidays,
            }
        )
        day += dt.timedelta(days=1)
    shifts = pd.DataFrame(
        [
            {
                "date": w.local_date,
                "shift_name": w.name,
                "start_utc": w.start,
                "end_utc": w.end,
                "hours": w.hours,
            }
            for w in shift_windows(plant, first, last)
        ]
    )
    return {
        "lines": lines,
        "machines": machines,
        "tags": tags,
        "cycle_times": cycle_times,
        "planned_maintenance": maintenance,
        "days": pd.DataFrame(day_rows),
        "shifts": shifts,
    }
