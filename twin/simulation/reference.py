"""SimPy reference model of a serial line: parts one by one, the yardstick for ``twin.simulation.engine``.

Same model as the engine (see ``twin.simulation.line_model``), built the obvious way: each machine is a process
that takes a part from its upstream buffer, processes it for one cycle (3600 / effective rate s) of
*free* time (inside a shift and outside planned windows), drops it with probability ``scrap``, and
puts it into the downstream buffer, holding it (blocked) while the buffer is full. A buffer of
capacity 0 is a direct hand-over. Failures come after ``tbf`` operating hours and stop the machine
mid-part; the repair consumes open (shift) time; the part resumes afterwards. Setups likewise.

State hours are the overlap of each machine's logged states with its free time; planned hours are
the overlap of planned windows with shifts. The momentary bottleneck is sampled every ``sample_h``
of open time: a station is active when none of its machines is starved or blocked and it is not
planned down; its active period restarts at the end of its last starving/blocking of positive
length (or planned window); the station with the longest active period (in open hours) wins.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque

import numpy as np
import simpy

from twin.simulation.line_model import (
    STATES,
    LineParams,
    SimulationResult,
    overlap,
    planned_hours,
    planned_windows,
    union,
)

_ACTIVE = {"operating", "down", "setup"}


class _Buffer:
    """Counting buffer of indistinguishable parts; capacity 0 allowed (hand-over)."""

    def __init__(self, env: simpy.Environment, capacity: float, level: int) -> None:
        self.env, self.capacity, self.level = env, capacity, level
        self.getters: deque[simpy.Event] = deque()
        self.putters: deque[simpy.Event] = deque()

    def put(self) -> simpy.Event:
        ev = self.env.event()
        if self.getters:
            self.getters.popleft().succeed()
            ev.succeed()
        elif self.level < self.capacity:
            self.level += 1
            ev.succeed()
        else:
            self.putters.append(ev)
        return ev

    def get(self) -> simpy.Event:
        ev = self.env.event()
        if self.level > 0:
            self.level -= 1
            if self.putters:  # a blocked machine drops its part into the freed slot
                self.putters.popleft().succeed()
                self.level += 1
            ev.succeed()
        elif self.putters:
            self.putters.popleft().succeed()
            ev.succeed()
        else:
            self.getters.append(ev)
        return ev


def simulate(
    line: LineParams, replications: int, seed: int, sample_h: float = 1 / 60
) -> SimulationResult:
    """Simulate ``replications`` runs of ``line`` with SimPy; deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    runs = [_Run(line, rng, sample_h).result() for _ in range(replications)]
    edges = np.asarray(line.bucket_edges, float)
    n, K = len(line.machines), len(edges) - 1
    hours = {s: np.stack([r[0][s] for r in runs]) for s in STATES if s != "planned"}
    hours["planned"] = np.broadcast_to(planned_hours(line), (replications, K, n)).copy()
    open_hours = overlap(union(line.shifts), edges[:-1], edges[1:])
    return SimulationResult(
        line.id,
        line.machine_ids,
        edges,
        open_hours,
        np.stack([r[1] for r in runs]),
        hours,
        np.stack([r[2] for r in runs]),
    )


def trace(line: LineParams, rng: np.random.Generator, sample_h: float = 1 / 60) -> _Run:
    """One replication with its event logs: each unit's ``log`` of (time, state) and, per station,
    ``done`` (time, scrapped) of every finished part (how bench/reference_plant.py writes MES data)."""
    return _Run(line, rng, sample_h)


def _subtract(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intervals of ``a`` not covered by ``b`` (both sorted, disjoint)."""
    out: list[tuple[float, float]] = []
    for s, e in a:
        cur = s
        for bs, be in b:
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return np.array(out, dtype=float).reshape(-1, 2)


class _Unit:
    def __init__(self, station: int, start: float) -> None:
        self.station = station
        self.log: list[tuple[float, str]] = [(start, "starved")]
        self.inactive_end = 0.0  # end of the last positive-length starving/blocking
        self.ttf = np.inf
        self.tts = np.inf

    def state(self, t: float, name: str) -> None:
        last_t, last = self.log[-1]
        if last in ("starved", "blocked") and t > last_t + 1e-12:
            self.inactive_end = t
        self.log.append((t, name))


class _Run:
    """One replication."""

    def __init__(self, line: LineParams, rng: np.random.Generator, sample_h: float) -> None:
        self.line, self.rng, self.sample_h = line, rng, sample_h
        self.env = simpy.Environment()
        self.shifts = union(line.shifts)
        self.planned = [planned_windows(line, s) for s in range(len(line.machines))]
        self.free = [_subtract(self.shifts, p) for p in self.planned]
        self.out_times: list[float] = []
        n = len(line.machines)
        # every finished part per station (time, scrapped): what an MES counts at each machine,
        # read by bench/reference_plant.py to write a foreign plant's landing files
        self.done: list[list[tuple[float, bool]]] = [[] for _ in range(n)]
        buffers = [_Buffer(self.env, b, int(np.floor(line.initial_wip * b))) for b in line.buffers]
        self.units: list[_Unit] = []
        for s, (m, c) in enumerate(zip(line.machines, line.counts, strict=True)):
            first = m.first_tbf or m.tbf
            for _ in range(c):
                u = _Unit(s, 0.0)
                if m.tbf is not None:
                    u.ttf = float(first.sample(rng, 1)[0])  # type: ignore[union-attr]
                if m.setup_every_h is not None:
                    u.tts = float(rng.uniform(0, m.setup_every_h))
                self.units.append(u)
                inb = buffers[s - 1] if s > 0 else None
                outb = buffers[s] if s < n - 1 else None
                self.env.process(self._machine(u, inb, outb))
        self.bn = np.zeros((len(line.bucket_edges) - 1, n))
        self.env.process(self._sampler())
        self.env.run(until=line.horizon_h)

    def _next_in(self, intervals: np.ndarray, t: float) -> tuple[float, float] | None:
        i = int(np.searchsorted(intervals[:, 1], t, side="right"))
        if i >= len(intervals):
            return None
        return max(t, intervals[i, 0]), intervals[i, 1]

    def _open_wait(self, hours: float):
        """Let ``hours`` of open (shift) time pass."""
        while hours > 1e-9:
            nxt = self._next_in(self.shifts, self.env.now)
            if nxt is None:
                yield self.env.timeout(np.inf)
            start, end = nxt
            run = min(hours, end - start)
            yield self.env.timeout(start + run - self.env.now)
            hours -= run

    def _work(self, u: _Unit, hours: float):
        """Process for ``hours`` of free time; failures and setups interrupt in operating time."""
        m = self.line.machines[u.station]
        while hours > 1e-9:
            nxt = self._next_in(self.free[u.station], self.env.now)
            if nxt is None:
                yield self.env.timeout(np.inf)
            start, end = nxt
            run = min(hours, end - start, u.ttf, u.tts)
            yield self.env.timeout(start + run - self.env.now)
            hours -= run
            u.ttf -= run
            u.tts -= run
            if u.ttf <= 1e-12:
                u.state(self.env.now, "down")
                yield from self._open_wait(float(m.repair.sample(self.rng, 1)[0]))
                u.ttf = float(m.tbf.sample(self.rng, 1)[0])  # type: ignore[union-attr]
                u.state(self.env.now, "operating")
            elif u.tts <= 1e-12:
                u.state(self.env.now, "setup")
                yield from self._open_wait(m.setup_h)
                u.tts += m.setup_every_h  # type: ignore[operator]
                u.state(self.env.now, "operating")

    def _machine(self, u: _Unit, inb: _Buffer | None, outb: _Buffer | None):
        m = self.line.machines[u.station]
        cycle = 1.0 / m.effective_rate
        while True:
            if inb is not None:
                u.state(self.env.now, "starved")
                yield inb.get()
            u.state(self.env.now, "operating")
            yield from self._work(u, cycle)
            scrapped = m.scrap > 0 and self.rng.random() < m.scrap
            self.done[u.station].append((self.env.now, scrapped))
            if scrapped:
                continue
            if outb is None:
                # - 1e-9 h: a part finished at a shift end must not slip into the next bucket
                # through float drift of the clock (millions of 1/rate increments)
                self.out_times.append(self.env.now - 1e-9)
            else:
                u.state(self.env.now, "blocked")
                yield outb.put()

    def _sampler(self):
        """Momentary bottleneck at the middle of every ``sample_h`` of open time."""
        edges = list(self.line.bucket_edges)
        n = len(self.line.machines)
        stations = [[u for u in self.units if u.station == s] for s in range(n)]
        planned = [[(float(a), float(b)) for a, b in p] for p in self.planned]
        starts = [float(a) for a, _ in self.shifts]
        ends = [float(b) for _, b in self.shifts]
        before = [0.0]  # open hours before each shift starts
        for a, b in zip(starts, ends, strict=True):
            before.append(before[-1] + b - a)

        def clock(t: float) -> float:  # open hours in [0, t)
            i = bisect.bisect_right(starts, t) - 1
            return 0.0 if i < 0 else before[i] + min(t, ends[i]) - starts[i]

        for start, end in zip(starts, ends, strict=True):
            for i in range(int(np.ceil((end - start) / self.sample_h - 1e-9))):
                a = start + i * self.sample_h
                weight = min(self.sample_h, end - a)
                yield self.env.timeout(a + weight / 2 - self.env.now)
                t = self.env.now
                best, best_s = 0.0, -1
                for s in range(n):
                    if any(u.log[-1][1] not in _ACTIVE for u in stations[s]):
                        continue
                    since = max(u.inactive_end for u in stations[s])
                    j = bisect.bisect_right(planned[s], (t, np.inf)) - 1
                    if j >= 0:
                        if planned[s][j][1] > t:
                            continue  # planned down: not active
                        since = max(since, planned[s][j][1])
                    streak = clock(t) - clock(since)
                    if streak > best:
                        best, best_s = streak, s
                if best_s >= 0:
                    self.bn[bisect.bisect_right(edges, t) - 1, best_s] += weight

    def result(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Hours per state (buckets, stations), good output per bucket, bottleneck hours."""
        line, end = self.line, self.line.horizon_h
        edges = np.asarray(line.bucket_edges, float)
        n, K = len(line.machines), len(edges) - 1
        hours = {s: np.zeros((K, n)) for s in STATES if s != "planned"}
        for u in self.units:
            times = np.array([t for t, _ in u.log] + [end])
            names = [name for _, name in u.log]
            for k, (a, b) in enumerate(itertools.pairwise(edges)):
                got = overlap(
                    self.free[u.station], np.clip(times[:-1], a, b), np.clip(times[1:], a, b)
                )
                for name, h in zip(names, got, strict=True):
                    hours[name][k, u.station] += h / line.counts[u.station]
        output = np.histogram(self.out_times, bins=edges)[0].astype(float)
        return hours, output, self.bn
