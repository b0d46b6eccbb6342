"""One site-local week of one line of the virtual plant: every machine's days, coupled by the flow.

The generator writes day by day, but a line's flow carries over from one day to the next (a part
waiting in a buffer overnight), so the machines' days are rendered a week at a time: each machine's
own days (``vp_mes``), then the line's flow (``vp_flow``), then the coupled codes cut back into
days. The week is the unit that keeps generation continuous (see ``vp_flow``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from twin.plant.calendar import day_window
from twin.plant.model import Line, Plant
from twin.virtual_plant.flow import MachineFlow, simulate_week
from twin.virtual_plant.mes import PAD_S, DayContext, MachineDay, day_context, render_machine_day
from twin.virtual_plant.micro_stops import MICRO_STOP_S
from twin.virtual_plant.timeline import Event, OpClock, to_s

# past the end of a truncated week: long enough to tell a micro-stop from a stop
LOOKAHEAD_S = max(3600, 2 * MICRO_STOP_S)

EventIndex = dict[str, tuple[list[Event], np.ndarray, np.ndarray]]  # machine -> (events, lo, hi)


@dataclass
class LineWeek:
    """Coupled machine-days of a line for (up to) the 7 days from ``monday``, in flow order."""

    monday: dt.date
    days: dict[dt.date, list[MachineDay]]
    flows: list[MachineFlow]  # per machine, over the whole week
    contexts: dict[dt.date, DayContext]


def week_of(date: dt.date) -> dt.date:
    """The Monday starting the site-local week of ``date``."""
    return date - dt.timedelta(days=date.weekday())


def day_events(index: EventIndex, machine_id: str, day: DayContext) -> list[Event]:
    """The machine's maintenance events that touch the day or its padding hour."""
    events, lo, hi = index[machine_id]
    sel = np.flatnonzero((lo < day.end) & (hi > day.start - PAD_S))
    return [events[i] for i in sel]


def render_line_week(
    seed: int,
    plant: Plant,
    line: Line,
    clock: OpClock,
    monday: dt.date,
    index: EventIndex,
    until: dt.date | None = None,
) -> LineWeek:
    """Own machine-days for the week, the line's flow over them, and the coupled machine-days.

    ``until`` (inclusive) ends the week early: the flow is causal, so its days come out the same as
    in the whole week, and a call generating one day does not pay for seven. Whether a wait is a
    micro-stop depends on its length, which a wait running over the end of ``until`` does not
    show: the flow then runs ``LOOKAHEAD_S`` into the next day (any wait reaching that far is long).
    """
    days_in = 7 if until is None else min(max((until - monday).days + 1, 1), 7)
    dates = [monday + dt.timedelta(days=i) for i in range(days_in)]
    sim_dates = dates + ([monday + dt.timedelta(days=days_in)] if days_in < 7 else [])
    contexts = {}
    for date in sim_dates:
        window = day_window(plant, date)
        contexts[date] = day_context(plant, clock, date, (to_s(window.start), to_s(window.end)))
    own = {
        date: [
            render_machine_day(seed, plant, line, m, clock, day, day_events(index, m.id, day))
            for m in line.machines
        ]
        for date, day in contexts.items()
    }
    week_start = contexts[monday].start
    runs = sorted(
        {(s, e, product) for mds in own.values() for md in mds for s, e, product, _ in md.products}
    )
    cut = [PAD_S + (LOOKAHEAD_S if d not in dates else contexts[d].seconds) for d in sim_dates]
    flows = simulate_week(
        seed,
        line,
        [
            np.concatenate([own[d][i].codes[PAD_S:c] for d, c in zip(sim_dates, cut, strict=True)])
            for i in range(len(line.machines))
        ],
        [_degradation(own, sim_dates, cut, i) for i in range(len(line.machines))],
        runs,
        week_start,
    )
    days: dict[dt.date, list[MachineDay]] = {}
    for date in dates:
        day = contexts[date]
        a = day.start - week_start
        days[date] = []
        for i, md in enumerate(own[date]):
            week_codes = flows[i].codes
            # the padding hour before Monday stays the machine's own: the previous week's flow is
            # not simulated here, so that a day never depends on where a call started
            pad = md.codes[:PAD_S] if a == 0 else week_codes[a - PAD_S : a]
            codes = np.concatenate([pad, week_codes[a : a + day.seconds]])
            days[date].append(dataclasses.replace(md, codes=codes))
    return LineWeek(monday, days, flows, contexts)


def _degradation(
    own: dict[dt.date, list[MachineDay]], dates: list[dt.date], cut: list[int], i: int
) -> np.ndarray:
    """The machine's precursor level (0..1, the worst of its signals) per simulated second."""
    parts = []
    for d, c in zip(dates, cut, strict=True):
        md = own[d][i]
        if md.degradation:
            parts.append(np.max(np.stack(list(md.degradation.values())), axis=0)[PAD_S:c])
        else:
            parts.append(np.zeros(min(c, len(md.codes)) - PAD_S, np.float32))
    return np.concatenate(parts)
