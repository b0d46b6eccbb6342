"""Short waits are micro-stops inside running time, as an MES logs them; long ones are idle states.

The line's flow (``vp_flow``) knows, to the second, when a machine waits for a part (starved) or
for room downstream (blocked). A fast machine behind a slower one waits a few seconds every cycle,
and a real MES does not log that as a state: a machine is "stopped" only when it has not cycled
for longer than a threshold, and stops below it are micro-stops that ISO 22400 counts as a
performance (speed) loss inside running time (performance = PRI x PQ / APT drops). Logging every
per-cycle wait also made the states landing file ~22 times larger (a row pair per cycle).

So a maximal stretch of waiting seconds (starved and blocked back to back count as one stop, as
the machine does not cycle through either) shorter than ``MICRO_STOP_S`` is painted RUNNING; a
longer one stays IDLE, with one reason for the whole stop: the one it spent most seconds in (an
MES stop record carries one reason).
"""

from __future__ import annotations

import numpy as np

from twin.virtual_plant.mes import BLOCKED, RUNNING, STARVED

# 3 minutes: OEE practice puts the micro-stop/short-stop line between 2 and 5 minutes (a stop a
# line operator would not walk over for); it is far above the per-cycle waits of the demo lines
# (seconds) and below their real interruptions (own stops of ~6 min, breakdowns, setups), so the
# idle rows that remain mean "the line stopped this machine" and nothing else.
MICRO_STOP_S = 180


def fold_micro_stops(codes: np.ndarray, threshold_s: int = MICRO_STOP_S) -> np.ndarray:
    """``codes`` (state codes per second) with short waits RUNNING and long ones of one reason."""
    wait = (codes == STARVED) | (codes == BLOCKED)
    if not wait.any():
        return codes
    edges = np.flatnonzero(np.diff(np.concatenate([[0], wait.astype(np.int8), [0]])))
    starts, ends = edges[0::2], edges[1::2]
    blocked = np.concatenate([[0], np.cumsum(codes == BLOCKED)])
    n_blocked = blocked[ends] - blocked[starts]
    length = ends - starts
    new = np.where(2 * n_blocked > length, BLOCKED, STARVED)
    new = np.where(length < threshold_s, RUNNING, new).astype(codes.dtype)
    first = np.zeros(len(codes), bool)
    first[starts] = True
    stretch = np.cumsum(first) - 1  # index of the stretch each waiting second belongs to
    out = codes.copy()
    out[wait] = new[stretch[wait]]
    return out
