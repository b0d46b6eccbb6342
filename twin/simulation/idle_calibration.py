"""A machine's own idle, told apart from the starving and blocking its line causes.

ISO 22400 idle (planned busy time neither running, set up nor down) mixes two things: the machine's
own stops (minor stops, waiting for an operator, start-up, clean-up) and the time its line leaves
it starved or blocked. The engine needs only the first (it simulates the second), but the KPI marts
carry idle without its MES reason. On a coupled line the difference is large: the virtual plant's
24-s inspection machine behind a 42-s mill waits ~45 % of its time; taken as its own idle (or, for
the waits the MES books as micro-stops, as its own speed loss), the engine would slow it below the
mill and make it the line's false bottleneck.

Calibration (simulation-based, the engine as the model): the observed running share of a machine
is u = running / (running + idle). With own idle o, the engine's machine processes at
rate x (1 - o) and is neither starved nor blocked a share w of its running + idle hours, so it runs
w x (1 - o). Solving u = w x (1 - o) for o with w from the engine, and repeating (w depends on
every machine's o through the line), converges in a few rounds: the own idle with which the engine
reproduces every machine's observed running share, and hence the line's observed output. Clipping
to [1 - 1/p, idle] keeps each step between "the machine ran at ideal speed whenever it was not
waiting" and "all its idle is its own". Runs on the history's rates, four weeks, no near-term risk
or scenario changes: own idle is what the history shows, so every scenario of a batch gets the same.
With a ``cache`` folder the result is kept there under a digest of its inputs, and the batch's other
scenario runs (each its own process) read it instead of running the engine four more rounds.

Where to start matters. A machine that is not the line's constraint makes the same output at any
speed above the constraint's, so its running share does not pin its speed down: every such speed
is a fixed point (speed x w is constant), and the iteration stays where it starts. Starting from
"all idle is own" left a starved machine barely faster than the constraint, a machine that cannot
catch up after a stoppage upstream: a second constraint that the real line does not have. The
iteration therefore starts from the fast end, o = 1 - 1/p (ideal speed); the constraint itself,
whose output does depend on its speed, still slows down to its observed output.

Micro-stops. An MES logs a wait shorter than a few minutes not as idle but inside running time
(the virtual plant: ``twin.virtual_plant.micro_stops``), so KPI performance p already carries those starved
and blocked seconds, which the engine simulates too. The fit is unaffected by where the waits
are booked: p x u = ideal output per running + idle hour is the same either way, and the engine's
speed p (1 - o) = p u / w only needs o. But o may then be negative (w < u: the engine starves the
machine for seconds that the history booked as running): the engine's machine is faster than the
KPI performance, which is how the micro-stops are not counted twice. The bound 1 - 1/p keeps the
engine's performance p (1 - o) at most 1.

An MES that books no IDLE at all (only RUNNING, UNPLANNED_DOWNTIME and OFF: every wait is running
time) is the limit of the same case: a machine off the constraint shows the line's pace per
running hour as its KPI performance (0.6-0.7 on the reference plant, ``bench/reference_plant.py``),
its observed idle is ~0 and o = 1 - 1/w at the fast end; it keeps (nearly) its ideal speed, and
only the constraint, whose running time holds the fewest waits, slows to what the line made. On
that plant the engine's constraints came out within 1.5 points of their true speed (0.905 for
0.92, 0.926 for 0.94, 0.894 for 0.90) and the weekly line output within 6 % (BENCHMARKS.md,
Fidelity).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import uuid
from pathlib import Path

import numpy as np

from twin.simulation import engine
from twin.simulation.engine import simulate_many
from twin.simulation.line_model import Distribution, Exponential, LineParams, Weibull

ROUNDS = 4
REPLICATIONS = 16
WEEKS = 4
SEED = 20_261_102


def stretched(tbf: Distribution, factor: float) -> Distribution:
    """The same failure law on a clock running ``factor`` times slower (running -> operating h)."""
    if isinstance(tbf, Exponential):
        return Exponential(tbf.mean * factor)
    if isinstance(tbf, Weibull):
        return Weibull(tbf.shape, tbf.scale * factor)
    raise TypeError(f"cannot stretch {type(tbf).__name__}")


def with_own_idle(line: LineParams, idle: dict[str, float]) -> LineParams:
    """``line`` (machines without idle: performance and failure clock in running hours) with each
    machine's own idle: slower by (1 - idle), failure clock stretched by 1 / (1 - idle)."""
    machines = []
    for m in line.machines:
        keep = 1.0 - idle.get(m.id, 0.0)
        machines.append(
            dataclasses.replace(
                m,
                performance=min(m.performance * keep, 1.0),  # own idle < 0: see module doc
                tbf=stretched(m.tbf, 1 / keep) if m.tbf is not None else None,
            )
        )
    return dataclasses.replace(line, machines=tuple(machines))


def calibrate_own_idle(
    lines: list[LineParams], idle: dict[str, float], cache: Path | None = None
) -> dict[str, float]:
    """Own idle per machine (module doc) for ``lines`` built without idle and observed ``idle``
    shares (idle / (running + idle)). The lines must share their bucket edges. With ``cache``, a
    result computed before from the same inputs is read from that folder (and a new one kept)."""
    horizon = min(lines[0].horizon_h, WEEKS * 7 * 24.0)
    base = [_trimmed(line, horizon) for line in lines]
    if cache is None:
        return _calibrated(base, idle)
    # the dataclasses' repr spells out every parameter (floats round-trip), in a fixed order; the
    # engine's and this module's code are part of the key, so an upgraded twin calibrates afresh
    code = b"".join(Path(m.__file__).read_bytes() for m in (engine, sys.modules[__name__]))
    inputs = repr((base, sorted(idle.items()), ROUNDS, REPLICATIONS, SEED)).encode() + code
    file = cache / f"own_idle_{hashlib.sha256(inputs).hexdigest()[:32]}.json"
    if file.exists():
        return json.loads(file.read_text())
    own = _calibrated(base, idle)
    cache.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{file.name}.{uuid.uuid4().hex[:8]}")
    partial.write_text(json.dumps(own))
    os.replace(partial, file)  # a scenario run reading beside this one sees all of it or nothing
    return own


def _calibrated(base: list[LineParams], idle: dict[str, float]) -> dict[str, float]:
    own = {m.id: 1 - 1 / m.performance for x in base for m in x.machines}  # fast end: doc
    for _ in range(ROUNDS):
        results = simulate_many([with_own_idle(x, own) for x in base], REPLICATIONS, SEED)
        for line, res in zip(base, results, strict=True):
            op, st, bl = (
                res.hours[k].sum(axis=(0, 1)) for k in ("operating", "starved", "blocked")
            )
            share = np.divide(op, op + st + bl, out=np.ones_like(op), where=op + st + bl > 0)
            for m, w in zip(line.machines, share, strict=True):
                observed = idle.get(m.id, 0.0)
                fastest = 1 - 1 / m.performance  # <= 0: the engine's performance reaches 1
                own[m.id] = float(min(max(1 - (1 - observed) / max(w, 1e-9), fastest), observed))
    return own


def _trimmed(line: LineParams, horizon: float) -> LineParams:
    """The first ``horizon`` hours of ``line`` as one bucket, without scenario-only changes."""
    shifts = tuple((a, min(b, horizon)) for a, b in line.shifts if a < horizon)
    machines = tuple(
        dataclasses.replace(
            m,
            first_tbf=None,
            planned=tuple((a, min(b, horizon)) for a, b in m.planned if a < horizon),
        )
        for m in line.machines
    )
    return dataclasses.replace(
        line,
        machines=machines,
        shifts=shifts,
        horizon_h=horizon,
        bucket_edges=(0.0, horizon),
        line_down=(),
        # the plant's declared parallel machines stay, scenario-added ones go
        parallel=tuple(len(x) for x in line.members) if line.members else None,
        weekly_cv=0.0,
    )
