"""Parameters of one serial flow line for the scenario engine, and the shape of a simulation result.

The model, shared by the vectorised engine (``twin.simulation.engine``) and the SimPy reference
(``twin.simulation.reference``) so that both simulate exactly the same thing:

* Time is in hours from the horizon start. Machines work only inside the line's shift intervals
  ("open time"); outside them the line is frozen: work in progress stays where it is, repairs and
  setups do not progress (maintenance is staffed on shifts, so MTTR measured in production time
  is what a repair consumes, consistent with ISO 22400 downtime counted inside planned busy time).
* A station is one machine or ``parallel`` identical machines sharing the same buffers. Between
  consecutive stations sits a buffer of ``buffers[i]`` parts. The first station never starves
  (raw material is always there), the last is never blocked (the sink takes everything).
* A machine makes ``rate_per_h * performance`` parts per hour while it processes. Each part it
  finishes is scrapped with probability ``scrap``; only good parts move on.
* Failures are operation-dependent: the time between failures counts operating hours only (a
  starved, blocked, planned-down or closed machine does not age). After a repair the machine is as
  good as new. ``first_tbf`` replaces the first time to failure (near-term risk from the failure
  model); without it a machine starts the horizon as good as new.
* A repair consumes open time (it pauses outside shifts, it continues during planned windows).
  ``first_repair`` replaces the first failure's repair (the predicted failure mode's repair time).
* Setups (changeovers) come every ``setup_every_h`` operating hours and last ``setup_h`` open hours.
* Planned maintenance windows and line-down intervals are absolute [start, end) hours; inside them
  the machine does not process, and their open hours are reported as planned downtime.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

Interval = tuple[float, float]


class Distribution:
    """A non-negative random duration in hours; ``sample`` draws ``size`` values from ``rng``."""

    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Deterministic(Distribution):
    value: float

    @property
    def mean(self) -> float:  # type: ignore[override]
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)


@dataclass(frozen=True)
class Exponential(Distribution):
    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


@dataclass(frozen=True)
class Weibull(Distribution):
    shape: float
    scale: float

    @property
    def mean(self) -> float:  # type: ignore[override]
        return self.scale * math.gamma(1 + 1 / self.shape)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, size)

    @classmethod
    def from_quantiles(cls, p10: float, p90: float) -> Weibull:
        """The Weibull through two quantiles, e.g. hours-to-failure p10/p90 of the risk model."""
        k = math.log(math.log(0.1) / math.log(0.9)) / math.log(p90 / p10)
        return cls(shape=k, scale=p10 / (-math.log(0.9)) ** (1 / k))


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal given by its mean and coefficient of variation (repair times)."""

    mean: float
    cv: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), size)


@dataclass(frozen=True)
class HazardThen(Distribution):
    """Constant hazard ``per_h`` for the first ``until_h`` hours, then ``then`` afresh.

    The near-term override of a failure-risk model: p_failure_72h = p gives per_h = -ln(1-p)/72.
    """

    per_h: float
    until_h: float
    then: Distribution

    @property
    def mean(self) -> float:  # type: ignore[override]
        if self.per_h <= 0:
            return self.until_h + self.then.mean
        survive = math.exp(-self.per_h * self.until_h)
        return (1 - survive) / self.per_h + survive * self.then.mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        early = rng.exponential(1 / self.per_h, size) if self.per_h > 0 else np.full(size, np.inf)
        late = self.until_h + self.then.sample(rng, size)
        return np.where(early < self.until_h, early, late)


@dataclass(frozen=True)
class PiecewiseHazard(Distribution):
    """Constant hazard between knots, through given survival points, then ``then`` afresh.

    ``knots`` are increasing hours t_i with ``survival`` S(t_i) decreasing in (0, 1): on
    [t_(i-1), t_i) the hazard is ln(S_(i-1) / S_i) / (t_i - t_(i-1)) (t_0 = 0, S_0 = 1), so the law
    passes exactly through every point, e.g. hours-to-failure p10/p50/p90 (S = 0.9, 0.5, 0.1).
    A unit that survives the last knot starts ``then`` there (beyond what the risk model says, the
    history's law), as ``HazardThen`` does after its window.
    """

    knots: tuple[float, ...]
    survival: tuple[float, ...]
    then: Distribution

    def __post_init__(self) -> None:
        t = (0.0, *self.knots)
        s = (1.0, *self.survival)
        if not self.knots or len(self.knots) != len(self.survival):
            raise ValueError("PiecewiseHazard needs one survival value per knot")
        if any(b <= a for a, b in itertools.pairwise(t)) or any(
            not 0 < b < a for a, b in itertools.pairwise(s)
        ):
            raise ValueError("PiecewiseHazard: knots must increase and survival decrease in (0, 1)")

    def _pieces(self) -> tuple[np.ndarray, np.ndarray]:
        """Knot times (with 0) and cumulative hazard -ln S at each."""
        return np.array([0.0, *self.knots]), -np.log([1.0, *self.survival])

    @property
    def mean(self) -> float:  # type: ignore[override]
        t, cum = self._pieces()
        s = np.exp(-cum)
        total = 0.0
        for i in range(1, len(t)):
            rate = (cum[i] - cum[i - 1]) / (t[i] - t[i - 1])
            total += s[i - 1] * (1 - s[i] / s[i - 1]) / rate
        return total + float(s[-1]) * self.then.mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        t, cum = self._pieces()
        h = rng.standard_exponential(size)  # a unit fails when its cumulative hazard reaches h
        inside = np.interp(h, cum, t)  # cumulative hazard is linear in t on every piece
        late = t[-1] + self.then.sample(rng, size)
        return np.where(h < cum[-1], inside, late)


@dataclass(frozen=True)
class MachineParams:
    """One machine type at a station (see the module docstring for the semantics)."""

    id: str
    rate_per_h: float  # parts/h at the ideal cycle time of the product mix
    performance: float = 1.0  # speed losses (ISO 22400 performance), 0 < p <= 1
    scrap: float = 0.0  # fraction of finished parts that are scrap
    tbf: Distribution | None = None  # operating hours between failures; None = never fails
    repair: Distribution = Deterministic(0.0)  # open hours per repair
    first_tbf: Distribution | None = None  # near-term override for the first failure
    # open hours of the first failure's repair (the predicted failure mode's); None = ``repair``
    first_repair: Distribution | None = None
    planned: tuple[Interval, ...] = ()  # planned maintenance windows [start_h, end_h)
    setup_every_h: float | None = None  # operating hours between changeovers
    setup_h: float = 0.0  # open hours per changeover

    def __post_init__(self) -> None:
        if self.rate_per_h <= 0 or not 0 < self.performance <= 1 or not 0 <= self.scrap < 1:
            raise ValueError(
                f"machine {self.id!r}: need rate > 0, 0 < performance <= 1, 0 <= scrap < 1"
            )
        if self.setup_every_h is not None and self.setup_every_h <= 0:
            raise ValueError(f"machine {self.id!r}: setup_every_h must be positive")

    @property
    def effective_rate(self) -> float:
        return self.rate_per_h * self.performance

    @classmethod
    def from_cycle_time(cls, id: str, cycle_time_s: float, **kwargs: object) -> MachineParams:
        """A machine given its ideal cycle time in seconds instead of a rate."""
        return cls(id=id, rate_per_h=3600.0 / cycle_time_s, **kwargs)  # type: ignore[arg-type]

    @staticmethod
    def setup_interval_for_fraction(fraction: float, setup_h: float) -> float:
        """Operating hours between changeovers so that setups take ``fraction`` of busy time."""
        return setup_h * (1 - fraction) / fraction


@dataclass(frozen=True)
class LineParams:
    """A serial line: stations in flow order, buffers between them, calendar and reporting buckets."""

    id: str
    machines: tuple[MachineParams, ...]
    buffers: tuple[int, ...]  # parts between station i and i+1 (len = stations - 1)
    shifts: tuple[Interval, ...]  # open intervals [start_h, end_h), sorted, non-overlapping
    horizon_h: float
    bucket_edges: tuple[
        float, ...
    ]  # reporting buckets [e0, e1), [e1, e2), ...; e0 = 0, last = horizon
    line_down: tuple[Interval, ...] = ()  # whole line stopped (scenario "line down for days")
    parallel: tuple[int, ...] | None = None  # identical machines per station (default 1 each)
    initial_wip: float = 0.5  # share of each buffer filled at the horizon start
    # week-to-week variation of good output beyond failures (coefficient of variation, fitted by
    # twin.simulation.weekly_variation); applied to the simulated output per replication and week by
    # twin.simulation.capacity.simulate_lines, outside the engine and the reference, which ignore it
    weekly_cv: float = 0.0
    # the plant's machine ids at each station (a declared ``station`` of the plant model: DESIGN
    # §3.2); None = each station is the one machine named by its id. The engine ignores it; the
    # capacity tables give every member a machine row with the station's per-machine figures
    members: tuple[tuple[str, ...], ...] | None = None
    # calendar week (0 = the week of the horizon start) of each bucket, for the week-to-week
    # variation; None (or a length other than the buckets', e.g. a copy re-bucketed by
    # dataclasses.replace) = weeks of 168 h from the start (right for a horizon from Monday 00:00)
    bucket_week: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.machines)
        if n == 0 or len(self.buffers) != n - 1 or any(b < 0 for b in self.buffers):
            raise ValueError(
                f"line {self.id!r}: need >= 1 machine and one buffer >= 0 between each pair"
            )
        if self.parallel is not None and (len(self.parallel) != n or min(self.parallel) < 1):
            raise ValueError(f"line {self.id!r}: parallel needs one count >= 1 per station")
        if self.members is not None and (
            len(self.members) != n or any(len(x) == 0 for x in self.members)
        ):
            raise ValueError(f"line {self.id!r}: members needs one non-empty id list per station")
        edges = self.bucket_edges
        if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"line {self.id!r}: bucket edges must start at 0 and increase")
        if abs(edges[-1] - self.horizon_h) > 1e-9:
            raise ValueError(f"line {self.id!r}: the last bucket edge must be the horizon")
        ends = [0.0, *(x for s in self.shifts for x in s)]
        if any(b < a for a, b in itertools.pairwise(ends)) or ends[-1] > self.horizon_h:
            raise ValueError(
                f"line {self.id!r}: shifts must be sorted, disjoint, inside the horizon"
            )

    @property
    def counts(self) -> tuple[int, ...]:
        return self.parallel or (1,) * len(self.machines)

    @property
    def machine_ids(self) -> list[str]:
        return [m.id for m in self.machines]

    @property
    def station_members(self) -> tuple[tuple[str, ...], ...]:
        """The plant's machine ids at each station (the station's own id when none declared)."""
        return self.members or tuple((m.id,) for m in self.machines)

    def station_of(self, machine_id: str) -> int:
        """Index of the station that ``machine_id`` (a plant machine or a station id) belongs to."""
        for s, (m, ids) in enumerate(zip(self.machines, self.station_members, strict=True)):
            if machine_id == m.id or machine_id in ids:
                return s
        raise KeyError(machine_id)


def overlap(intervals: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Length of [a, b) covered by the union of disjoint sorted ``intervals`` (n, 2); vectorised."""
    if len(intervals) == 0:
        return np.zeros(np.broadcast(a, b).shape)
    starts, ends = intervals[:, 0], intervals[:, 1]
    cum = np.concatenate([[0.0], np.cumsum(ends - starts)])

    def covered_until(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(starts, t, side="right")  # intervals starting at or before t
        partial = np.clip(
            t - starts[np.maximum(i - 1, 0)], 0, (ends - starts)[np.maximum(i - 1, 0)]
        )
        return cum[np.maximum(i - 1, 0)] + np.where(i > 0, partial, 0.0)

    return np.maximum(
        covered_until(np.asarray(b, float)) - covered_until(np.asarray(a, float)), 0.0
    )


def union(*groups: tuple[Interval, ...] | list[Interval]) -> np.ndarray:
    """The union of intervals as a sorted, disjoint (n, 2) array."""
    items = sorted((float(s), float(e)) for g in groups for s, e in g if e > s)
    merged: list[list[float]] = []
    for s, e in items:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return np.array(merged, dtype=float).reshape(-1, 2)


def intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The intersection of two sorted disjoint interval arrays."""
    out = [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if min(e1, e2) > max(s1, s2)]
    return np.array(sorted(out), dtype=float).reshape(-1, 2)


def planned_windows(line: LineParams, station: int) -> np.ndarray:
    """Planned-down intervals of a station (its maintenance windows and the line-down intervals)."""
    return union(line.machines[station].planned, line.line_down)


def planned_hours(line: LineParams) -> np.ndarray:
    """Open hours in planned windows per bucket and station, shape (buckets, stations)."""
    shifts = union(line.shifts)
    edges = np.asarray(line.bucket_edges)
    return np.stack(
        [
            overlap(intersect(shifts, planned_windows(line, s)), edges[:-1], edges[1:])
            for s in range(len(line.machines))
        ],
        axis=1,
    )


STATES = ("operating", "blocked", "starved", "down", "setup", "planned")


@dataclass
class SimulationResult:
    """Per replication and bucket: good output and station hours; summaries over replications.

    ``hours[state]`` has shape (replications, buckets, stations) in open hours per machine (a
    parallel station reports the average of its machines). ``bottleneck`` (same shape) holds the
    open hours each station was the line's momentary bottleneck (see ``twin.simulation.engine``).
    """

    line_id: str
    machine_ids: list[str]
    bucket_edges: np.ndarray
    open_hours: np.ndarray  # (buckets,)
    output: np.ndarray  # (replications, buckets) good parts out of the last station
    hours: dict[str, np.ndarray] = field(default_factory=dict)
    bottleneck: np.ndarray | None = None

    @property
    def replications(self) -> int:
        return self.output.shape[0]

    def output_quantiles(self, qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> np.ndarray:
        """Quantiles of good output per bucket, shape (len(qs), buckets)."""
        return np.quantile(self.output, qs, axis=0)

    def total_output(self) -> np.ndarray:
        """Good output over the whole horizon per replication."""
        return self.output.sum(axis=1)

    def expected_hours(self, state: str) -> np.ndarray:
        """Mean hours in ``state`` per bucket and station, shape (buckets, stations)."""
        return self.hours[state].mean(axis=0)

    def bottleneck_share(self) -> np.ndarray:
        """Share of open time each station was the bottleneck, per bucket: (buckets, stations)."""
        assert self.bottleneck is not None
        total = self.bottleneck.sum(axis=2, keepdims=True).mean(axis=0)
        return self.bottleneck.mean(axis=0) / np.where(total > 0, total, 1.0)
