"""Historian signals of the virtual plant: one vectorised pass per tag-day, no loop over samples.

Each signal follows the machine state of the second it is sampled in (MachineDay.codes) and, before
a failure, the precursor ramp of its failure mode (MachineDay.degradation, 0..1):
- vibration x (1 + 3 d) ... up to 4x the healthy level when a bearing is about to fail;
- temperature + 25 % of the headroom above ambient for thermal drift (+5 % of span for bearings);
- torque (and power) mean +60 % and random spikes before a tool breaks.
Healthy values stay inside the tag's min/max; out-of-range values only come from injected defects.
"""

from __future__ import annotations

import numpy as np

from twin.plant.model import Machine, Tag
from twin.virtual_plant.mes import CLASS_OF_CODE, PAD_S, DayContext, MachineDay
from twin.virtual_plant.timeline import key, rng_for

STREAM_TAG, STREAM_NOISE = 21, 22
AMBIENT_C = 22.0
# Level per state class (off, running, idle, setup, planned down, unplanned down) as a share of the
# tag's max. Power: standby ~1 %, idle ~15 %, cutting ~55 %: what a spindle drive's meter shows.
LEVELS: dict[str, np.ndarray] = {
    "power": np.array([0.01, 0.55, 0.15, 0.12, 0.02, 0.02]),
    "vibration": np.array([0.01, 0.10, 0.04, 0.04, 0.01, 0.01]),
    "torque": np.array([0.0, 0.35, 0.03, 0.05, 0.0, 0.0]),
    "pressure": np.array([0.02, 0.60, 0.45, 0.30, 0.02, 0.02]),
    "speed": np.array([0.0, 0.70, 0.0, 0.10, 0.0, 0.0]),
}
ACTIVITY = np.array([0.0, 1.0, 0.4, 0.3, 0.0, 0.0], dtype=np.float32)  # heat input per state class
SMOOTH_S = 1200  # thermal lag: two 20-min moving averages (a 40-min triangular kernel, < PAD_S)


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    out = np.empty(len(x))
    out[width:] = (c[width + 1 :] - c[1 : len(x) - width + 1]) / width
    out[:width] = c[1 : width + 1] / np.arange(1, width + 1)
    return out


def heat(md: MachineDay) -> np.ndarray:
    """Smoothed activity (0..1) per second: how warm the machine is from recent work."""
    act = ACTIVITY[CLASS_OF_CODE[md.codes]]
    return _moving_average(_moving_average(act, SMOOTH_S), SMOOTH_S)


def sample_times_us(tag: Tag, day: DayContext) -> np.ndarray:
    """Sample instants (epoch microseconds) on the tag's period grid, aligned to the epoch."""
    period = round(tag.period_s * 1e6)
    first = -(-day.start * 1_000_000 // period) * period
    return np.arange(first, day.end * 1_000_000, period, dtype=np.int64)


def render_tag(
    seed: int,
    machine: Machine,
    tag: Tag,
    md: MachineDay,
    day: DayContext,
    heat_s: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(ts in epoch µs, value) of one tag over one day."""
    ts = sample_times_us(tag, day)
    sec = (ts // 1_000_000 - (day.start - PAD_S)).astype(np.int64)
    cls = CLASS_OF_CODE[md.codes[sec]]
    n = len(ts)
    static = rng_for(seed, key(tag.tag), STREAM_TAG)
    gain = static.uniform(0.85, 1.15)
    rng = rng_for(seed, key(tag.tag), STREAM_NOISE, day.start)
    noise = rng.standard_normal(n, dtype=np.float32)
    lo, hi = tag.min, tag.max
    span = hi - lo
    signal = tag.signal.lower()

    def deg(name: str) -> np.ndarray | float:
        d = md.degradation.get(name)
        return 0.0 if d is None else d[sec]

    if signal == "temperature":
        ambient = min(max(AMBIENT_C, lo + 0.05 * span), hi - 0.5 * span)
        rise = 0.18 * (hi - ambient) * gain
        h = heat_s[sec] if heat_s is not None else 0.0
        value = ambient + rise * h + 0.004 * span * noise
        value = value + 0.25 * (hi - ambient) * deg("temperature") * (0.4 + 0.6 * h)
        value = value + 0.05 * span * deg("vibration")
    elif signal == "humidity":
        hours = (ts / 3.6e9) % 24
        value = (
            lo + span * (0.45 + 0.05 * np.sin(2 * np.pi * hours / 24)) * gain + 0.01 * span * noise
        )
    else:
        levels = LEVELS.get(signal, LEVELS["pressure"]) * gain
        base = lo + hi * levels[cls] if lo >= 0 else lo + span * levels[cls]
        if signal == "vibration":
            active = (cls >= 1) & (cls <= 3)
            value = base * (1 + 3 * deg("vibration") * active) * np.exp(0.08 * noise)
        elif signal == "torque":
            ict = min(machine.ideal_cycle_time_s.values())
            cycle = 0.75 + 0.5 * np.abs(np.sin(np.pi * (ts / 1e6) / ict))
            d = deg("torque")
            value = base * cycle * (1 + 0.6 * d) + 0.01 * span * noise
            if np.ndim(d):
                spikes = rng.random(n) < 0.04 * d
                value = value + spikes * 0.3 * span
        elif signal == "power":
            value = base * (1 + 0.1 * deg("temperature") + 0.2 * deg("torque")) + 0.01 * hi * noise
        else:
            value = base + 0.01 * span * noise
    value = np.clip(np.asarray(value, dtype=np.float64), lo, hi)
    return ts, np.round(value, 3)
