"""The virtual plant's event timeline: operating clock, planned maintenance and corrective failures.

Continuity rests here. Every event is derived from a fixed origin (ORIGIN, the first date the plant
tables cover) with random streams keyed by (seed, machine), never by the requested date range, so the
history of a given day is the same whether it is generated alone, in a long run or in two halves.

Wear is counted in *operating* time (hours inside shift windows), because a bearing wears while the
spindle turns, not over a weekend. Failures form a renewal process: the time from one repair's end to
the next failure is drawn in operating hours; a repair resets wear.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

from twin.plant.calendar import day_window, shift_windows
from twin.plant.model import Machine, Plant

ORIGIN = dt.date(2020, 1, 1)
EPOCH = dt.datetime(1970, 1, 1)

# Mean operating hours between failures. The demo plant runs ~320 operating hours per 4 weeks
# (2 shifts x 5 days x 4 weeks x 8 h), so 100 h gives ~3.2 corrective failures per machine per
# 4 weeks (~2 a day on the 18-machine plant); a per-machine factor (lognormal, sigma 0.3) makes
# some machines worse actors than others. 100 h, not the 150 h it was: the demo's history must
# hold >= 30 held-out failures to judge the failure-risk model on (150 h: ~20). Much denser (70 h)
# put half of all rows within 72 h of a failure, where an always-on alarm looks precise.
MTBF_OP_H = 100.0
# Failure modes, their weight and the operating hours over which their precursor builds up. The
# failure-risk model predicts 72 h ahead (~48 operating hours on a 2-shift plant), so the ramps sit
# mostly inside 8-90 operating hours.
MODES: dict[str, tuple[float, str | None, tuple[float, float]]] = {
    # mode: (weight, signal that shows the precursor, ramp length range in operating hours)
    "bearing_wear": (0.35, "vibration", (40.0, 90.0)),
    "thermal_drift": (0.25, "temperature", (14.0, 36.0)),
    "tool_breakage": (0.20, "torque", (8.0, 24.0)),
    "electrical_fault": (0.20, None, (0.0, 0.0)),
}
STREAM_FAIL, STREAM_PM = 1, 2


def key(text: str) -> int:
    """A stable 32-bit key for an id (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def rng_for(seed: int, *parts: int) -> np.random.Generator:
    """A random stream for (seed, parts...): independent of everything else that is generated."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, *parts])))


def to_s(t: dt.datetime) -> float:
    """Naive UTC datetime -> epoch seconds."""
    return (t - EPOCH).total_seconds()


class OpClock:
    """Cumulative operating (in-shift) seconds since ORIGIN, and its inverse."""

    def __init__(self, plant: Plant, last: dt.date) -> None:
        windows = shift_windows(plant, ORIGIN, last)
        self.windows = windows
        # Merge overlapping shifts (a plant may define them) so that time is never counted twice.
        merged: list[list[float]] = []
        for w in windows:
            s, e = to_s(w.start), to_s(w.end)
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        arr = np.array(merged, dtype=float).reshape(-1, 2)
        self.starts, self.ends = arr[:, 0], arr[:, 1]
        lengths = self.ends - self.starts
        self.cum_end = np.cumsum(lengths)
        self.cum_start = self.cum_end - lengths
        self._starts_list = self.starts.tolist()
        self._cum_end_list = self.cum_end.tolist()
        self.horizon = to_s(day_window(plant, last).end)

    def op(self, t: float) -> float:
        """Operating seconds accumulated up to epoch second t."""
        i = bisect.bisect_right(self._starts_list, t) - 1
        if i < 0:
            return 0.0
        return float(
            self.cum_start[i] + min(max(t - self.starts[i], 0.0), self.ends[i] - self.starts[i])
        )

    def op_array(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.starts, t, side="right") - 1
        ok = i >= 0
        i = np.clip(i, 0, None)
        val = self.cum_start[i] + np.clip(t - self.starts[i], 0.0, self.ends[i] - self.starts[i])
        return np.where(ok, val, 0.0)

    def wall(self, h: float) -> float:
        """The epoch second at which the operating clock reaches h (inf past the horizon)."""
        i = bisect.bisect_left(self._cum_end_list, h)
        if i >= len(self._cum_end_list):
            return float("inf")
        return float(self.starts[i] + (h - self.cum_start[i]))


@dataclass(frozen=True)
class Event:
    """A maintenance event in epoch seconds. For failures, ramp_* describe the precursor."""

    machine_id: str
    kind: str  # PREVENTIVE or CORRECTIVE
    start: float
    end: float
    failure_mode: str | None = None
    ramp_op_start: float = 0.0  # operating clock where the precursor starts
    fail_op: float = 0.0  # operating clock at the failure
    precursor_signal: str | None = None
    ramp_wall_start: float = 0.0

    @property
    def work_order_id(self) -> str:
        stamp = (EPOCH + dt.timedelta(seconds=self.start)).strftime("%Y%m%d%H%M")
        prefix = "CM" if self.kind == "CORRECTIVE" else "PM"
        return f"{prefix}-{self.machine_id}-{stamp}"

    @property
    def has_precursor(self) -> bool:
        return self.precursor_signal is not None and self.fail_op - self.ramp_op_start >= 3600.0

    @property
    def precursor_hours(self) -> float:
        return (self.fail_op - self.ramp_op_start) / 3600.0 if self.precursor_signal else 0.0


def pm_events(plant: Plant, clock: OpClock, machine: Machine, seed: int) -> list[Event]:
    """Planned maintenance every `every_days`, at the start of the first shift on or after the due date.

    Each plan gets a per-machine phase so that the plant's machines are not all serviced on one day.
    """
    events: list[Event] = []
    shift_starts = np.array([to_s(w.start) for w in clock.windows])
    for n, plan in enumerate(machine.planned_maintenance):
        rng = rng_for(seed, key(machine.id), STREAM_PM, n)
        phase = rng.uniform(0, plan.every_days)
        dues = np.arange(
            phase,
            (clock.horizon - to_s(dt.datetime.combine(ORIGIN, dt.time()))) / 86400,
            plan.every_days,
        )
        due_s = to_s(dt.datetime.combine(ORIGIN, dt.time())) + dues * 86400
        idx = np.searchsorted(shift_starts, due_s, side="left")
        for i in np.unique(idx[idx < len(shift_starts)]):
            s = float(shift_starts[i])
            events.append(Event(machine.id, "PREVENTIVE", s, s + plan.duration_h * 3600))
    # two plans falling due on the same shift are done in one stop (and one work order)
    unique = {e.start: e for e in sorted(events, key=lambda e: e.end)}
    return sorted(unique.values(), key=lambda e: e.start)


def _available_modes(machine: Machine) -> tuple[list[str], np.ndarray]:
    signals = {t.signal for t in machine.tags}
    names, weights = [], []
    for mode, (weight, signal, _) in MODES.items():
        if signal is None or signal in signals:
            names.append(mode)
            weights.append(weight)
    w = np.array(weights)
    return names, w / w.sum()


def failure_events(clock: OpClock, machine: Machine, seed: int, pms: list[Event]) -> list[Event]:
    """Corrective failures from ORIGIN to the clock's horizon (a renewal process in operating time).

    Draws come in fixed blocks from one stream per machine, so the k-th failure is the same however
    far the horizon reaches: extending the horizon only appends failures.
    """
    rng = rng_for(seed, key(machine.id), STREAM_FAIL)
    factor = float(np.exp(rng.normal(0.0, 0.3)))
    mean_s = MTBF_OP_H * 3600 * factor
    names, probs = _available_modes(machine)
    pm_starts = [e.start for e in pms]
    events: list[Event] = []
    renewed_op = 0.0  # operating clock at the last repair's end
    block: list[tuple[float, float, float, float]] = []
    while True:
        if not block:
            # gamma(shape 3): failures are rarely within a few hours of a repair (wear-out, not random)
            gaps = rng.gamma(3.0, mean_s / 3.0, 64)
            modes = rng.random(64)
            repairs = np.clip(rng.lognormal(np.log(2.5), 0.6, 64), 0.5, 16.0) * 3600
            ramps = rng.random(64)
            block = list(
                zip(gaps.tolist(), modes.tolist(), repairs.tolist(), ramps.tolist(), strict=True)
            )[::-1]
        gap, mode_u, repair_s, ramp_u = block.pop()
        fail_op = renewed_op + gap
        start = clock.wall(fail_op)
        if start >= clock.horizon:
            break
        # A failure due during planned maintenance shows up when the machine restarts after it.
        j = bisect.bisect_right(pm_starts, start) - 1
        if j >= 0 and pms[j].start <= start < pms[j].end:
            start = pms[j].end
            fail_op = clock.op(start)
        mode = names[int(np.searchsorted(np.cumsum(probs), mode_u * 0.999999, side="right"))]
        _, signal, (lo, hi) = MODES[mode]
        ramp_op = (lo + (hi - lo) * ramp_u) * 3600
        ramp_start = max(
            fail_op - ramp_op, renewed_op
        )  # repairs reset wear: no ramp before renewal
        end = start + repair_s
        events.append(
            Event(
                machine.id,
                "CORRECTIVE",
                start,
                end,
                mode,
                ramp_start,
                fail_op,
                signal,
                clock.wall(ramp_start) if signal else start,
            )
        )
        renewed_op = clock.op(end)
    return events
