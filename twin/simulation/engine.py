"""Vectorised Monte Carlo engine for serial lines: a time-stepped fluid model, replications as array rows.

Algorithm. Time is cut into steps of at most ``dt_h`` (default 5 min) whose edges also include
every shift, maintenance, line-down and bucket boundary, so inside a step the calendar is constant;
steps where no line is open are skipped (the model is frozen outside shifts). State arrays have
shape (stations, parallel, lines, replications). In each step every machine has a capacity
``rate * min(up time, operating hours to its next failure or setup)``; the station flows are then
the largest flows that respect the buffers, found by one forward pass (a station cannot take more
than its upstream buffer holds plus what arrives this step) and one backward pass (it cannot push
more than the downstream buffer can hold plus what leaves it this step). Both passes together give
a feasible and maximal step flow for a serial line. Capacity lost in the forward pass is starved
time, lost in the backward pass blocked time.

Matching the discrete reference: a discrete machine that is blocked holds its finished part, so a
buffer of B parts between stations decouples them by B + (machines at the upstream station)
parts; the fluid buffer gets that capacity. Failures, repairs and setups are the same stochastic
processes as in ``twin.simulation.line_model``; a failure inside a step stops the machine for the rest of it.
A machine's first repair comes from ``first_repair`` when it has one (the predicted failure mode's).

Bottleneck (momentary, after Roser's active-period method, made causal): a station is active in a
step when it is neither starved nor blocked nor planned down (processing, broken or in setup all
count as active). Each station keeps the open hours of its current uninterrupted active period;
the station with the longest current active period is the bottleneck for that step.
"""

from __future__ import annotations

import itertools

import numpy as np

from twin.simulation.line_model import (
    Deterministic,
    Distribution,
    Exponential,
    LineParams,
    LogNormal,
    SimulationResult,
    Weibull,
    planned_hours,
    planned_windows,
    union,
)

# Step length: 5 min. On the test lines the mean output at 1, 2, 5 and 10 min steps agrees within
# 0.3 % (standard error 0.15 %) (capacities are constant inside a step except when a failure or repair
# falls in it), and 5 min is 5x cheaper than 1 min.
DT_H = 5 / 60
_BIG = 1e18  # "infinite" buffer / time, kept finite so arithmetic never produces nan
_EPS = 1e-7  # parts; flows below this are float noise from millions of steps


def simulate(
    line: LineParams, replications: int, seed: int, dt_h: float = DT_H
) -> SimulationResult:
    """Simulate ``replications`` independent runs of ``line``; deterministic for a given seed."""
    return simulate_many([line], replications, seed, dt_h)[0]


def simulate_many(
    lines: list[LineParams], replications: int, seed: int, dt_h: float = DT_H
) -> list[SimulationResult]:
    """Simulate several lines (same horizon and buckets) in one vectorised batch."""
    edges = np.asarray(lines[0].bucket_edges, float)
    if any(not np.array_equal(np.asarray(x.bucket_edges, float), edges) for x in lines):
        raise ValueError("simulate_many needs the same bucket edges for every line")
    rng = np.random.default_rng(seed)
    L, R = len(lines), replications
    S = max(len(x.machines) for x in lines)
    P = max(max(x.counts) for x in lines)
    p = _Params(lines, S, P, R, rng)
    t0s, t1s, open_lk, planned_slk = _steps(lines, S, edges, dt_h)
    bucket_of = np.searchsorted(edges, t0s, side="right") - 1

    shape4, shape3 = (S, P, L, R), (S, L, R)
    buf = np.broadcast_to(p.buf0, (S - 1, L, R)).copy()
    space = np.empty_like(buf)
    stop = np.zeros(shape4)  # open hours left of the current repair or setup
    in_setup = np.zeros(shape4, bool)
    ttf, tts = p.ttf0, p.tts0  # operating hours to the next failure / setup
    life = np.minimum(ttf, tts)
    streak = np.zeros(shape3)
    # cumulative sums (station level, parts or machine-hours); bucket values are differences
    names = ("cap", "fwd", "flow", "down", "setup", "bottleneck")
    cum = {k: np.zeros(shape3) for k in names}
    snaps: list[tuple[int, dict[str, np.ndarray]]] = []
    f = np.empty(shape3)
    flat = np.arange(L * R)
    bn_flat = cum["bottleneck"].reshape(S, -1).ravel()  # a view: station-major flat index
    setups = bool(np.isfinite(p.tts0).any() and (p.tts0 < _BIG).any())
    scrap = bool((p.y < 1).any())
    all_open = open_lk.all(axis=1)
    all_free = planned_slk.all(axis=(1, 2))

    for k in range(len(t0s)):
        h = t1s[k] - t0s[k]
        hop = h * open_lk[k][None, None, :, None] if not all_open[k] else h
        # a repair or setup consumes open time, also inside planned windows
        used = np.minimum(stop, hop)
        stop -= used
        up = hop - used
        if not all_free[k]:
            work = planned_slk[k][:, None, :, None]
            up *= work
            used *= work
        run = np.minimum(up, life)
        cap_u = run * p.rate
        cap = cap_u.sum(axis=1) if P > 1 else cap_u[:, 0]

        # forward pass: supply limits (starving); backward pass: space limits (blocking)
        f[0] = cap[0]
        for s in range(1, S):
            arriving = f[s - 1] * p.y[s - 1] if scrap else f[s - 1]
            np.minimum(cap[s], buf[s - 1] + arriving, out=f[s])
        cum["fwd"] += f
        np.subtract(p.bcap, buf, out=space)
        for s in range(S - 2, -1, -1):
            room = space[s] + f[s + 1]
            np.minimum(f[s], room * p.inv_y[s] if scrap else room, out=f[s])
        buf += (f[:-1] * p.y[:-1] if scrap else f[:-1]) - f[1:]
        np.clip(buf, 0.0, p.bcap, out=buf)

        if P > 1:  # split the station flow over its machines in proportion to their capacity
            share = np.divide(cap_u, cap[:, None], out=np.zeros(shape4), where=cap[:, None] > 0)
            op = share * f[:, None] * p.inv_rate
        else:
            op = f[:, None] * p.inv_rate
        if setups:
            ttf -= op
            tts -= op
            np.minimum(ttf, tts, out=life)
            cum["down"] += (used * ~in_setup).sum(axis=1)
            cum["setup"] += (used * in_setup).sum(axis=1)
        else:
            life -= op
            cum["down"] += used.sum(axis=1) if P > 1 else used[:, 0]
        ev = np.flatnonzero(life.ravel() <= 1e-12)
        if ev.size:
            _events(ev, rng, p, shape4, up, run, stop, in_setup, ttf if setups else life, tts, cum)
            if setups:
                np.minimum(ttf, tts, out=life)

        # momentary bottleneck: longest current active period (active = neither starved nor blocked)
        active = cap - f <= _EPS
        if not all_free[k]:
            active &= planned_slk[k][:, :, None] > 0
        if all_open[k]:
            streak += h
            streak *= active
        else:  # closed lines keep their streaks overnight
            streak = np.where(open_lk[k][None, :, None] > 0, (streak + h) * active, streak)
        best = streak.max(axis=0).ravel()
        bn_flat[streak.argmax(axis=0).ravel() * (L * R) + flat] += h * (best > 0)
        # capacity for the starved/blocked split: the whole up time, except the rest of a step
        # after a failure or setup (that is downtime, see _events)
        cum["cap"] += (up * p.rate).sum(axis=1) if P > 1 else up[:, 0] * p.rate[:, 0]
        cum["flow"] += f
        if k == len(t0s) - 1 or bucket_of[k + 1] != bucket_of[k]:
            snaps.append((int(bucket_of[k]), {n: a.copy() for n, a in cum.items()}))
    return [_result(line, i, edges, snaps, p) for i, line in enumerate(lines)]


def _events(ev, rng, p, shape4, up, run, stop, in_setup, ttf, tts, cum) -> None:
    """Start repairs (failures) and setups for the machines whose operating clock ran out."""
    idx = np.unravel_index(ev, shape4)
    rem = up[idx] - run[idx]  # rest of the step after the event: the machine is already stopped
    fail = ttf[idx] <= 1e-12
    station_idx = (idx[0], idx[2], idx[3])
    if fail.any():
        fi = tuple(i[fail] for i in idx)
        repair = _draw(rng, p.rep_code, fi)
        if p.first_repair:  # a machine's first failure is the predicted one: its mode's repair
            first = p.fresh[fi]
            if first.any():
                fresh = tuple(i[first] for i in fi)
                repair[first] = _draw(p.first_rng, p.first_rep_code, fresh)
                p.fresh[fresh] = False
        stop[fi] = np.maximum(repair - rem[fail], 0.0)
        in_setup[fi] = False
        ttf[fi] = _draw(rng, p.tbf_code, fi)
        np.add.at(cum["down"], tuple(i[fail] for i in station_idx), rem[fail])
        np.add.at(
            cum["cap"], tuple(i[fail] for i in station_idx), -rem[fail] * p.rate[fi[:3]][:, 0]
        )
    if (~fail).any():
        si = tuple(i[~fail] for i in idx)
        stop[si] = np.maximum(p.setup_h[si[0], si[2]] - rem[~fail], 0.0)
        in_setup[si] = True
        tts[si] += p.setup_every[si[0], si[2]]
        np.add.at(cum["setup"], tuple(i[~fail] for i in station_idx), rem[~fail])
        np.add.at(
            cum["cap"], tuple(i[~fail] for i in station_idx), -rem[~fail] * p.rate[si[:3]][:, 0]
        )


class _Params:
    """Per-line parameters padded to (stations, parallel, lines, replications) arrays."""

    def __init__(self, lines: list[LineParams], S: int, P: int, R: int, rng: np.random.Generator):
        L = len(lines)
        # Common random numbers: the first failure of each station and the first repairs come
        # from streams of their own (one draw of the main stream each, whatever the law), so a
        # run with a near-term risk law and one without (twin.simulation.prediction_effect) share
        # every other random number and, through inverse-transform sampling from the same
        # exponential draws, rank-couple the first failures themselves.
        self.first_rng = np.random.default_rng(rng.integers(2**63))
        self.rate = np.zeros((S, P, L, 1))  # effective rate; 0 = no machine in this slot
        self.y = np.ones((S, L, 1))
        self.bcap = np.full((S - 1, L, 1), _BIG)
        self.buf0 = np.zeros((S - 1, L, 1))
        self.setup_h = np.zeros((S, L))
        self.setup_every = np.full((S, L), _BIG)
        self.rep_code = np.zeros((3, S, L))
        self.first_rep_code = np.zeros((3, S, L))
        self.fresh = np.zeros((S, P, L, R), bool)  # first failure still to come (first_repair)
        self.tbf_code = np.zeros((3, S, L))
        self.tbf_code[1] = _BIG  # deterministic "never"
        self.ttf0 = np.full((S, P, L, R), _BIG)
        self.tts0 = np.full((S, P, L, R), _BIG)
        self.station_rate = np.full((S, L), 1.0)
        for li, line in enumerate(lines):
            n = len(line.machines)
            if (
                n < S
            ):  # pass-through stations after the last real one: infinitely fast, free buffers
                self.rate[n:, 0, li] = 1e12
            for s, (m, c) in enumerate(zip(line.machines, line.counts, strict=True)):
                self.rate[s, :c, li] = m.effective_rate
                self.station_rate[s, li] = m.effective_rate * c
                self.y[s, li] = 1 - m.scrap
                if s < n - 1:
                    # + c: each blocked upstream machine holds one finished part (see module doc)
                    self.bcap[s, li] = line.buffers[s] + c
                    self.buf0[s, li] = np.floor(line.initial_wip * line.buffers[s])
                self.rep_code[:, s, li] = _code(m.repair)
                if m.first_repair is not None and m.tbf is not None:
                    self.first_rep_code[:, s, li] = _code(m.first_repair)
                    self.fresh[s, :c, li] = True
                if m.tbf is not None:
                    self.tbf_code[:, s, li] = _code(m.tbf)
                    first = m.first_tbf or m.tbf
                    own = np.random.default_rng(rng.integers(2**63))
                    self.ttf0[s, :c, li] = first.sample(own, c * R).reshape(c, R)
                if m.setup_every_h is not None:
                    self.setup_h[s, li] = m.setup_h
                    self.setup_every[s, li] = m.setup_every_h
                    self.tts0[s, :c, li] = rng.uniform(0, m.setup_every_h, (c, R))
        self.first_repair = bool(self.fresh.any())
        self.inv_rate = np.divide(1.0, self.rate, out=np.zeros_like(self.rate), where=self.rate > 0)
        self.inv_y = 1 / self.y


def _code(dist: Distribution) -> tuple[float, float, float]:
    """(family, a, b): 0 deterministic a; 1 Weibull shape a, scale b; 2 lognormal mu a, sigma b."""
    if isinstance(dist, Deterministic):
        return (0.0, dist.value, 0.0)
    if isinstance(dist, Exponential):
        return (1.0, 1.0, dist.mean)
    if isinstance(dist, Weibull):
        return (1.0, dist.shape, dist.scale)
    if isinstance(dist, LogNormal):
        sigma2 = np.log1p(dist.cv**2)
        return (2.0, np.log(dist.mean) - sigma2 / 2, np.sqrt(sigma2))
    raise TypeError(
        f"the engine samples Deterministic, Exponential, Weibull, LogNormal; got {dist!r}"
    )


def _draw(rng: np.random.Generator, code: np.ndarray, idx: tuple[np.ndarray, ...]) -> np.ndarray:
    """Samples for the events at ``idx`` (s, p, l, r), each from its own station's distribution."""
    kind, a, b = code[0][idx[0], idx[2]], code[1][idx[0], idx[2]], code[2][idx[0], idx[2]]
    n = len(kind)
    weibull = b * rng.standard_exponential(n) ** (1 / np.where(kind == 1, a, 1.0))
    # exponent only for lognormal rows: a Weibull scale of 150 h as sigma would overflow exp
    lognormal = np.exp(np.where(kind == 2, a + b * rng.standard_normal(n), 0.0))
    return np.where(kind == 0, a, np.where(kind == 1, weibull, lognormal))


def _steps(lines: list[LineParams], S: int, edges: np.ndarray, dt_h: float):
    """Step edges and, per step, which lines are open (K, L) and which stations may work (K, S, L)."""
    horizon = edges[-1]
    cuts = [np.arange(0.0, horizon, dt_h), edges]
    for line in lines:
        cuts.append(union(line.shifts).ravel())
        for s in range(len(line.machines)):
            cuts.append(planned_windows(line, s).ravel())
    t = np.unique(np.clip(np.concatenate(cuts), 0.0, horizon))
    t0, t1 = t[:-1], t[1:]
    mid = (t0 + t1) / 2
    open_lk = np.stack([_inside(union(x.shifts), mid) for x in lines], axis=1)
    keep = open_lk.any(axis=1) & (t1 - t0 > 1e-12)
    t0, t1, mid, open_lk = t0[keep], t1[keep], mid[keep], open_lk[keep]
    free = np.ones((len(t0), S, len(lines)))
    for li, line in enumerate(lines):
        for s in range(len(line.machines)):
            free[:, s, li] = ~_inside(planned_windows(line, s), mid)
    return t0, t1, open_lk.astype(float), free


def _inside(intervals: np.ndarray, t: np.ndarray) -> np.ndarray:
    if len(intervals) == 0:
        return np.zeros(t.shape, bool)
    i = np.searchsorted(intervals[:, 0], t, side="right") - 1
    return (i >= 0) & (t < intervals[np.maximum(i, 0), 1])


def _result(
    line: LineParams, li: int, edges: np.ndarray, snaps: list, p: _Params
) -> SimulationResult:
    """Per-bucket differences of the cumulative sums for line ``li``, hours per machine."""
    n, counts = len(line.machines), np.asarray(line.counts, float)
    K = len(edges) - 1
    R = snaps[0][1]["flow"].shape[2]
    values = {k: np.zeros((R, K, n)) for k in ("operating", "starved", "blocked", "down", "setup")}
    bottleneck = np.zeros((R, K, n))
    output = np.zeros((R, K))
    prev: dict[str, np.ndarray] | None = None
    rate = p.station_rate[:n, li][:, None]  # parts per station-hour
    for b, snap in snaps:
        d = {k: (v - prev[k] if prev else v)[:, li] for k, v in snap.items()}
        prev = snap
        output[:, b] = d["flow"][-1] * p.y[-1, li]  # good parts leaving the (last) station
        values["operating"][:, b] = (d["flow"][:n] / rate).T
        values["starved"][:, b] = ((d["cap"] - d["fwd"])[:n] / rate).T
        values["blocked"][:, b] = ((d["fwd"] - d["flow"])[:n] / rate).T
        values["down"][:, b] = (d["down"][:n] / counts[:, None]).T
        values["setup"][:, b] = (d["setup"][:n] / counts[:, None]).T
        bottleneck[:, b] = d["bottleneck"][:n].T
    values["planned"] = np.broadcast_to(planned_hours(line), (R, K, n)).copy()
    open_hours = np.array([_open(line, a, b) for a, b in itertools.pairwise(edges)])
    return SimulationResult(
        line.id, line.machine_ids, edges, open_hours, output, values, bottleneck
    )


def _open(line: LineParams, a: float, b: float) -> float:
    return float(sum(max(0.0, min(e, b) - max(s, a)) for s, e in line.shifts))
