"""The plant calendar in absolute time: site-local days and shift windows as UTC intervals.

Everything downstream (generator, KPIs, scenarios) works in UTC; this module is the one place that
turns the plant's wall-clock calendar into UTC, so DST days (23 h or 25 h) and shifts that cross
midnight are handled once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from twin.plant.model import WEEKDAYS, Plant

UTC = dt.UTC


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end) with naive UTC datetimes."""

    name: str
    local_date: dt.date  # the site-local date on which the window starts
    start: dt.datetime
    end: dt.datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def _to_utc(local_date: dt.date, clock: str, plant: Plant) -> dt.datetime:
    hours, minutes = (int(x) for x in clock.split(":"))
    extra_day = hours == 24
    wall = dt.datetime.combine(
        local_date + dt.timedelta(days=extra_day), dt.time(hours % 24, minutes)
    )
    # fold=0 picks the first occurrence of an ambiguous wall time (autumn DST change); a wall time
    # that does not exist (spring) is shifted forward by zoneinfo, which is what a shift clock does.
    return wall.replace(tzinfo=plant.tz).astimezone(UTC).replace(tzinfo=None)


def day_window(plant: Plant, local_date: dt.date) -> Window:
    """The site-local calendar day as a UTC interval (23, 24 or 25 hours long)."""
    return Window(
        "day", local_date, _to_utc(local_date, "00:00", plant), _to_utc(local_date, "24:00", plant)
    )


def shift_windows(plant: Plant, first: dt.date, last: dt.date) -> list[Window]:
    """Every shift starting on a site-local date in [first, last], holidays excluded."""
    holidays = set(plant.calendar.holidays)
    windows: list[Window] = []
    day = first
    while day <= last:
        if day not in holidays:
            weekday = WEEKDAYS[day.weekday()]
            for shift in plant.calendar.shifts:
                if weekday not in shift.days:
                    continue
                end_date = day + dt.timedelta(days=1) if shift.crosses_midnight else day
                start = _to_utc(day, shift.start, plant)
                end = _to_utc(end_date, shift.end, plant)
                windows.append(Window(shift.name, day, start, end))
        day += dt.timedelta(days=1)
    return sorted(windows, key=lambda w: w.start)


def shift_hours(plant: Plant, first: dt.date, last: dt.date) -> float:
    """Hours of shift starting on the site-local dates [first, last] (what a line can work)."""
    return sum(w.hours for w in shift_windows(plant, first, last))


def local_date_of(plant: Plant, utc: dt.datetime) -> dt.date:
    """The site-local date of a naive UTC instant."""
    return utc.replace(tzinfo=UTC).astimezone(plant.tz).date()
