"""Material flow through a serial line of the virtual plant: starving, blocking and buffers.

Each machine's own time (shifts, start-up, minor stops, setups, maintenance, breakdowns) is painted
independently by ``vp_mes.render_machine_day``; its RUNNING seconds are the time the machine *could*
process. This module couples the machines of a line (DESIGN §3.2: a serial flow line with
``buffer_capacity`` parts between consecutive machines), part by part, the way a real line behaves:

* a machine starts a part when it has released the previous one and a part waits in its upstream
  buffer (the first machine always has material): otherwise it is STARVED;
* processing a part takes ``ideal cycle time / performance`` seconds of the machine's own RUNNING
  time (a breakdown or the end of the shift pauses it, the part stays on the machine);
* a finished good part leaves when the downstream buffer has room; until then the machine holds it
  and is BLOCKED (blocking after service, as the engine and the SimPy reference model it). Scrap
  leaves at once and never reaches the next machine.

The recursion over part indices is the classical one for tandem lines with finite buffers:
``start[i][n] = max(departure[i][n-1], arrival of its input)`` and ``departure[i][n] =
max(completion[i][n], start[i+1][n - B])``. Own RUNNING seconds in which the machine neither
processes nor holds a finished part are starved, those in which it holds one blocked. A wait
shorter than ``vp_micro_stops.MICRO_STOP_S`` stays RUNNING (a micro-stop: a performance loss, as an
MES counts it); longer ones become IDLE/STARVED or IDLE/BLOCKED (the landing contract has no
starved/blocked state; ISO 22400 counts both as idle time).

The flow is simulated one site-local week at a time (Monday 00:00 to Monday 00:00) from buffers
half full and empty machines, the engine's starting state (``LineParams.initial_wip``). Anchoring
on the calendar week rather than on the generated range keeps the history a function of (plant,
seed): a day comes out the same whichever call generates it.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass

import numpy as np

from twin.plant.model import Line, Machine
from twin.virtual_plant.mes import BLOCKED, RUNNING, STARVED
from twin.virtual_plant.micro_stops import fold_micro_stops
from twin.virtual_plant.timeline import key, rng_for

STREAM_FLOW = 14
INITIAL_WIP = 0.5  # share of each buffer filled at the week start (as the engine's initial_wip)
# Performance (0.86-0.97 per machine-hour) stands for small stops and slow cycles that the MES does
# not log as states; scrap is 1-3 % per machine-hour when healthy and up to +10 points at the end
# of a failure's precursor ramp, which also slows the machine by up to 10 %.
PERFORMANCE = (0.86, 0.97)
SCRAP = (0.01, 0.03)
WEEK_S = 7 * 86400


@dataclass
class MachineFlow:
    """What one machine did in the week: its coupled state codes and every part it finished."""

    codes: np.ndarray  # uint8 per second of the week (own codes, RUNNING split by the flow)
    completed: np.ndarray  # epoch seconds (float, increasing) at which each part was finished
    good: np.ndarray  # bool per finished part: False = scrap


class _Availability:
    """A machine's own RUNNING time as intervals: wall clock <-> cumulative processing seconds."""

    def __init__(self, running: np.ndarray, origin: int) -> None:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], running.astype(np.int8), [0]])))
        starts, ends = edges[0::2] + origin, edges[1::2] + origin
        lengths = ends - starts
        self.starts = starts.astype(float).tolist()
        self.ends = ends.astype(float).tolist()
        self.cum_start = (np.cumsum(lengths) - lengths).astype(float).tolist()
        self.cum_end = np.cumsum(lengths).astype(float).tolist()
        self.total = self.cum_end[-1] if self.cum_end else 0.0

    def at(self, t: float) -> float:
        """Processing seconds available before wall time t."""
        k = bisect.bisect_right(self.starts, t) - 1
        if k < 0:
            return 0.0
        return self.cum_start[k] + min(t - self.starts[k], self.ends[k] - self.starts[k])

    def wall(self, a: float) -> float:
        """The wall time at which ``a`` processing seconds have been available (inf: not this week)."""
        k = bisect.bisect_left(self.cum_end, a)
        if k >= len(self.cum_end):
            return math.inf
        return self.starts[k] + max(a - self.cum_start[k], 0.0)


def simulate_week(
    seed: int,
    line: Line,
    own_codes: list[np.ndarray],
    degradation: list[np.ndarray],
    runs: list[tuple[int, int, str]],
    week_start: int,
) -> list[MachineFlow]:
    """Couple the machines of ``line`` over one week.

    ``own_codes[i]`` and ``degradation[i]`` hold machine i's own state codes and precursor level
    (0..1) per second from ``week_start``; ``runs`` are the line's product runs (start, end, product)
    in epoch seconds, sorted (one per shift).
    """
    if any(len(group) > 1 for group in line.stations):
        return _simulate_stations(seed, line, own_codes, degradation, runs, week_start)
    n_m = len(line.machines)
    cap = line.buffer_capacity
    wip0 = math.floor(INITIAL_WIP * cap)
    run_ends = [float(e) for _, e, _ in runs]
    avail = [_Availability(c == RUNNING, week_start) for c in own_codes]
    draws = [_Draws(seed, m, week_start) for m in line.machines]
    start: list[list[float]] = [[] for _ in range(n_m)]
    done: list[list[float]] = [[] for _ in range(n_m)]
    left: list[list[float]] = [[] for _ in range(n_m)]
    good_left: list[list[float]] = [[] for _ in range(n_m)]  # departures of good parts only
    good: list[list[bool]] = [[] for _ in range(n_m)]
    finished = [False] * n_m  # no further part this week
    origin = float(week_start)

    def cycle_s(i: int, m: Machine, t: float) -> float:
        k = min(bisect.bisect_right(run_ends, t), len(runs) - 1)
        product = runs[k][2] if runs else next(iter(m.ideal_cycle_time_s))
        ict = m.ideal_cycle_time_s.get(product, min(m.ideal_cycle_time_s.values()))
        return ict / draws[i].performance(t, degradation[i])

    progress = True
    while progress:
        progress = False
        for i, m in enumerate(line.machines):
            while not finished[i]:
                if len(done[i]) == len(left[i]):  # idle: the next part must start
                    n = len(start[i])
                    if i == 0:
                        arrival = -math.inf
                    elif n < wip0:
                        arrival = origin
                    elif n - wip0 < len(good_left[i - 1]):
                        arrival = good_left[i - 1][n - wip0]
                    elif finished[i - 1]:
                        arrival = math.inf
                    else:
                        break  # wait for the upstream machine
                    s = max(left[i][-1] if left[i] else origin, arrival)
                    if s == math.inf:
                        finished[i] = True
                        break
                    c = avail[i].wall(avail[i].at(s) + cycle_s(i, m, s))
                    start[i].append(s)
                    if c == math.inf:  # started, but not finished within the simulated time
                        finished[i] = True
                        break
                    done[i].append(c)
                    good[i].append(draws[i].is_good(len(good[i]), c, degradation[i]))
                else:  # holding a finished part: it leaves when there is room downstream
                    c = done[i][-1]
                    if not good[i][-1] or i == n_m - 1:
                        d = c
                    else:
                        k = len(good_left[i])  # this part's index among the good ones
                        need = wip0 + k - cap  # the downstream part that must have started
                        if cap == 0:  # no buffer: the next machine must have released its part
                            if k == 0:
                                d = c
                            elif k - 1 < len(left[i + 1]):
                                d = max(c, left[i + 1][k - 1])
                            elif finished[i + 1]:
                                d = math.inf
                            else:
                                break
                        elif need < 0:
                            d = c
                        elif need < len(start[i + 1]):
                            d = max(c, start[i + 1][need])
                        elif finished[i + 1]:
                            d = math.inf
                        else:
                            break  # wait for the downstream machine
                    left[i].append(d)
                    if good[i][-1]:
                        good_left[i].append(d)
                    if d == math.inf:
                        finished[i] = True
                        break
                progress = True
    return [
        _flow(own_codes[i], week_start, start[i], done[i], left[i], good[i]) for i in range(n_m)
    ]


def _simulate_stations(
    seed: int,
    line: Line,
    own_codes: list[np.ndarray],
    degradation: list[np.ndarray],
    runs: list[tuple[int, int, str]],
    week_start: int,
) -> list[MachineFlow]:
    """``simulate_week`` for a line with parallel machines at a station (plant model ``station``).

    The same rules, event by event instead of the tandem recursion (a station's parts no longer
    leave in the order they came): the machines of a station share its upstream and downstream
    buffers. A waiting part goes to the free machine of the station that would finish it first
    (a broken-down machine takes it only when no other is free); a finished good part leaves when
    the downstream buffer has room (no buffer: when a machine of the next station is free), the
    longest-held first. Lines without parallel machines keep the recursion (same bytes as before).
    """
    groups: list[list[int]] = []
    first = 0
    for group in line.stations:
        groups.append(list(range(first, first + len(group))))
        first += len(group)
    station_of = [j for j, g in enumerate(groups) for _ in g]
    n_s, n_m = len(groups), len(line.machines)
    cap = line.buffer_capacity
    wip0 = math.floor(INITIAL_WIP * cap)
    run_ends = [float(e) for _, e, _ in runs]
    avail = [_Availability(c == RUNNING, week_start) for c in own_codes]
    draws = [_Draws(seed, m, week_start) for m in line.machines]
    start: list[list[float]] = [[] for _ in range(n_m)]
    done: list[list[float]] = [[] for _ in range(n_m)]
    left: list[list[float]] = [[] for _ in range(n_m)]
    good: list[list[bool]] = [[] for _ in range(n_m)]
    buffer = [wip0] * (n_s - 1)  # parts waiting between station j and j + 1
    free = [True] * n_m  # neither processing nor holding a part
    holding: list[list[int]] = [[] for _ in range(n_s)]  # machines holding a good part, FIFO
    events: list[tuple[float, int]] = []

    def cycle_s(i: int, t: float) -> float:
        m = line.machines[i]
        k = min(bisect.bisect_right(run_ends, t), len(runs) - 1)
        product = runs[k][2] if runs else next(iter(m.ideal_cycle_time_s))
        ict = m.ideal_cycle_time_s.get(product, min(m.ideal_cycle_time_s.values()))
        return ict / draws[i].performance(t, degradation[i])

    t = float(week_start)
    while True:
        changed = True
        while changed:
            changed = False
            for j in reversed(range(n_s)):  # downstream first: a start makes room upstream
                while j == 0 or buffer[j - 1] > 0:
                    idle = [i for i in groups[j] if free[i]]
                    if not idle:
                        break
                    ends = [avail[i].wall(avail[i].at(t) + cycle_s(i, t)) for i in idle]
                    i = idle[int(np.argmin(ends))]
                    c = min(ends)
                    free[i] = False
                    start[i].append(t)
                    if j > 0:
                        buffer[j - 1] -= 1
                    changed = True
                    if c < math.inf:  # else started, but not finished within the simulated time
                        done[i].append(c)
                        heapq.heappush(events, (c, i))
                if j < n_s - 1:
                    room = cap if cap > 0 else sum(free[i] for i in groups[j + 1])
                    while holding[j] and buffer[j] < room:
                        i = holding[j].pop(0)
                        left[i].append(t)
                        free[i] = True
                        buffer[j] += 1
                        changed = True
        if not events:
            break
        t, i = heapq.heappop(events)
        j = station_of[i]
        good[i].append(draws[i].is_good(len(good[i]), t, degradation[i]))
        if good[i][-1] and j < n_s - 1:
            holding[j].append(i)
        else:  # scrap and the last station's parts leave at once
            left[i].append(t)
            free[i] = True
    return [
        _flow(own_codes[i], week_start, start[i], done[i], left[i], good[i]) for i in range(n_m)
    ]


def _flow(
    own: np.ndarray,
    origin: int,
    start: list[float],
    done: list[float],
    left: list[float],
    good: list[bool],
) -> MachineFlow:
    """Paint processing and holding time; own RUNNING seconds outside both are starved; waits
    too short for an MES to log stay RUNNING (``vp_micro_stops``)."""
    n = len(own)
    busy = _covered(n, origin, start, done + [math.inf] * (len(start) - len(done)))
    holding = _covered(n, origin, done[: len(left)], left)
    codes = own.copy()
    running = own == RUNNING
    codes[running & ~busy & holding] = BLOCKED
    codes[running & ~busy & ~holding] = STARVED
    return MachineFlow(fold_micro_stops(codes), np.asarray(done, float), np.asarray(good, bool))


def _covered(n: int, origin: int, a: list[float], b: list[float]) -> np.ndarray:
    """Seconds of [origin, origin + n) inside any [a_k, b_k) (intervals of one machine, disjoint)."""
    if not a:
        return np.zeros(n, bool)
    lo = np.clip(np.floor(np.asarray(a, float)) - origin, 0, n).astype(np.int64)
    hi = np.clip(np.floor(np.minimum(np.asarray(b, float), origin + n)) - origin, 0, n)
    hi = hi.astype(np.int64)
    marks = np.zeros(n + 1, np.int32)
    np.add.at(marks, lo, 1)
    np.add.at(marks, hi, -1)
    return np.cumsum(marks[:n]) > 0


class _Draws:
    """A machine-week's random speed and quality, keyed by (seed, machine, week).

    The arrays have a whole week's size whatever part of the week is simulated, so that the draws
    (and a day's data) do not depend on where a call to the generator ends.
    """

    def __init__(self, seed: int, machine: Machine, week_start: int):
        rng = rng_for(seed, key(machine.id), STREAM_FLOW, week_start)
        hours = WEEK_S // 3600 + 2  # + the 25th hour of a DST day
        self.origin = week_start
        self.perf = rng.uniform(*PERFORMANCE, hours)
        self.scrap = rng.uniform(*SCRAP, hours)
        fastest = min(machine.ideal_cycle_time_s.values())
        self.u = rng.random(int(WEEK_S / fastest) + 2)  # at most one part per ideal cycle

    def _hour(self, t: float) -> int:
        return min(max(int((t - self.origin) // 3600), 0), len(self.perf) - 1)

    def _level(self, t: float, degradation: np.ndarray) -> float:
        i = min(max(int(t) - self.origin, 0), len(degradation) - 1)
        return float(degradation[i]) if len(degradation) else 0.0

    def performance(self, t: float, degradation: np.ndarray) -> float:
        return float(self.perf[self._hour(t)]) * (1 - 0.1 * self._level(t, degradation))

    def is_good(self, n: int, t: float, degradation: np.ndarray) -> bool:
        p = float(self.scrap[self._hour(t)]) + 0.10 * self._level(t, degradation)
        return bool(self.u[n] >= p)
