"""Machine states and production counts of the virtual plant, one machine-day at a time.

A machine-day is rendered as one state code per second (86,400 bytes; 82,800/90,000 on DST days):
painting intervals onto a second grid makes the priorities trivial (breakdown over planned
maintenance over setup over running/idle over off) and gives the historian the state at any sample
time by a plain index. The grid painted here is the machine's own; the line's flow (vp_flow)
then turns its RUNNING seconds without a part into IDLE/STARVED or IDLE/BLOCKED. MES rows are the
run-length encoding of the coupled grid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from twin.plant.model import Line, Machine, Plant
from twin.virtual_plant.timeline import EPOCH, Event, OpClock, key, rng_for, to_s

# code -> (MES state, reason code); the reason splits IDLE into its usual causes
CODES: tuple[tuple[str, str], ...] = (
    ("OFF", "NO_SHIFT"),
    ("RUNNING", ""),
    ("IDLE", "STARVED"),
    ("IDLE", "BLOCKED"),
    ("IDLE", "MATERIAL"),
    ("IDLE", "OPERATOR"),
    ("IDLE", "STARTUP"),
    ("IDLE", "SHIFT_END"),
    ("SETUP", "CHANGEOVER"),
    ("PLANNED_DOWNTIME", "PM"),
    ("UNPLANNED_DOWNTIME", "BREAKDOWN"),
    ("OFF", "HOLIDAY"),
)
OFF, RUNNING, STARVED, BLOCKED, MATERIAL, OPERATOR, STARTUP, SHIFT_END = range(8)
SETUP, PLANNED, UNPLANNED, HOLIDAY = range(8, 12)
# state class per code: 0 off, 1 running, 2 idle, 3 setup, 4 planned down, 5 unplanned down
CLASS_OF_CODE = np.array([0, 1, 2, 2, 2, 2, 2, 2, 3, 4, 5, 0], dtype=np.int8)
PAD_S = 3600  # history before the day, so that smoothed signals are continuous across midnight

STREAM_SHIFT, STREAM_PRODUCT = 11, 12
PRODUCTION_COLUMNS = (
    "machine_id",
    "start_ts",
    "end_ts",
    "product_id",
    "work_order_id",
    "good_qty",
    "scrap_qty",
)


@dataclass
class DayContext:
    """Calendar facts of one site-local day shared by all machines."""

    date: dt.date
    start: int  # epoch seconds of the day start (UTC)
    end: int
    holiday: bool
    shifts: list[
        tuple[int, int, str, dt.date, int]
    ]  # (start, end, name, local date, index in clock)
    op: np.ndarray  # operating clock (s) for every second of [start - PAD_S, end)

    @property
    def seconds(self) -> int:
        return self.end - self.start


def day_context(
    plant: Plant, clock: OpClock, date: dt.date, bounds: tuple[float, float]
) -> DayContext:
    start, end = int(bounds[0]), int(bounds[1])
    shifts = []
    for i, w in enumerate(clock.windows):
        s, e = int(to_s(w.start)), int(to_s(w.end))
        if s < end and e > start - PAD_S:
            shifts.append((s, e, w.name, w.local_date, i))
    op = clock.op_array(np.arange(start - PAD_S, end, dtype=np.float64))
    return DayContext(date, start, end, date in set(plant.calendar.holidays), shifts, op)


def line_products(line: Line) -> list[str]:
    """What the line makes; a line whose machines share no product runs its first machine's."""
    return line.products or sorted(line.machines[0].ideal_cycle_time_s)


def shift_product(seed: int, line: Line, clock: OpClock, index: int) -> str:
    """The product a line runs in shift `index` of the calendar (one work order per line and shift)."""
    products = line_products(line)
    if index < 0 or len(products) == 1:
        return products[0]
    start = int(to_s(clock.windows[index].start))
    return products[int(rng_for(seed, key(line.id), STREAM_PRODUCT, start).integers(len(products)))]


def work_order_id(line: Line, local_date: dt.date, shift_name: str) -> str:
    return f"WO-{line.id}-{local_date:%Y%m%d}-{shift_name}"


@dataclass
class MachineDay:
    """The rendered day of one machine: state codes per second and the precursor ramps."""

    codes: np.ndarray  # uint8 per second over [day.start - PAD_S, day.end)
    degradation: dict[str, np.ndarray] = field(default_factory=dict)  # signal -> 0..1 per second
    products: list[tuple[int, int, str, str]] = field(
        default_factory=list
    )  # (start, end, product, WO)


def _paint(codes: np.ndarray, origin: int, start: float, end: float, code: int) -> None:
    a = max(int(np.floor(start)) - origin, 0)
    b = min(int(np.floor(end)) - origin, len(codes))
    if b > a:
        codes[a:b] = code


def render_machine_day(
    seed: int,
    plant: Plant,
    line: Line,
    machine: Machine,
    clock: OpClock,
    day: DayContext,
    events: list[Event],
) -> MachineDay:
    """State codes, product runs and precursor ramps of `machine` on `day`."""
    origin = day.start - PAD_S
    codes = np.full(day.end - origin, HOLIDAY if day.holiday else OFF, dtype=np.uint8)
    if day.holiday:
        codes[:PAD_S] = OFF
    out = MachineDay(codes)
    for s, e, name, local_date, index in day.shifts:
        rng = rng_for(seed, key(machine.id), STREAM_SHIFT, s)
        product = shift_product(seed, line, clock, index)
        previous = shift_product(seed, line, clock, index - 1)
        out.products.append((s, e, product, work_order_id(line, local_date, name)))
        # Shift rhythm: a start-up of 3-10 min, an optional changeover, then runs of ~50 min
        # (exponential) broken by idle stops of ~6 min, and 3-8 min of clean-up at the end.
        t = s + rng.uniform(180, 600)
        _paint(codes, origin, s, t, STARTUP)
        if product != previous and machine.changeover_min > 0:
            setup_end = t + machine.changeover_min * 60 * rng.uniform(0.9, 1.3)
            _paint(codes, origin, t, setup_end, SETUP)
            t = setup_end
        stop = e - rng.uniform(180, 480)
        runs = np.maximum(rng.exponential(50 * 60, 64), 120.0)
        idles = rng.exponential(6 * 60, 64) + 30.0
        # a machine's own stops wait for material or an operator; starved and blocked time comes
        # from the line's flow (vp_flow), painted over these own RUNNING seconds later
        reasons = rng.integers(MATERIAL, OPERATOR + 1, 64)
        for run, idle, reason in zip(runs.tolist(), idles.tolist(), reasons.tolist(), strict=True):
            if t >= stop:
                break
            _paint(codes, origin, t, min(t + run, stop), RUNNING)
            t += run
            _paint(codes, origin, t, min(t + idle, stop), reason)
            t += idle
        if t < stop:  # 64 runs did not fill the shift (only for very long shifts): keep running
            _paint(codes, origin, t, stop, RUNNING)
        _paint(codes, origin, stop, e, SHIFT_END)
    for ev in events:
        if ev.end <= origin or (ev.start >= day.end and ev.ramp_wall_start >= day.end):
            continue
        _paint(codes, origin, ev.start, ev.end, UNPLANNED if ev.kind == "CORRECTIVE" else PLANNED)
        if ev.kind == "CORRECTIVE" and ev.precursor_signal and ev.ramp_wall_start < day.end:
            a = max(int(np.floor(ev.ramp_wall_start)) - origin, 0)
            b = min(int(np.floor(ev.start)) - origin, len(codes))
            if b > a:
                ramp = np.clip(
                    (day.op[a:b] - ev.ramp_op_start) / max(ev.fail_op - ev.ramp_op_start, 1.0), 0, 1
                )
                deg = out.degradation.setdefault(
                    ev.precursor_signal, np.zeros(len(codes), np.float32)
                )
                # quadratic: wear is slow at first and accelerates towards the failure
                deg[a:b] = np.maximum(deg[a:b], ramp**2)
    return out


def state_rows(machine: Machine, md: MachineDay, day: DayContext) -> dict[str, np.ndarray]:
    """MES state intervals of the day (run-length encoding of the second grid, clipped to the day)."""
    codes = md.codes[PAD_S:]
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(codes)]])
    c = codes[starts]
    states = np.array([s for s, _ in CODES])[c]
    reasons = np.array([r for _, r in CODES])[c]
    return {
        "machine_id": np.full(len(starts), machine.id, dtype=object),
        "state": states.astype(object),
        "start_ts": starts + day.start,
        "end_ts": ends + day.start,
        "reason_code": reasons.astype(object),
    }


def production_rows(
    machine: Machine, md: MachineDay, day: DayContext, completed: np.ndarray, good: np.ndarray
) -> dict[str, np.ndarray]:
    """Counts per hour slot of every shift: the parts the machine finished in the slot (vp_flow).

    A part is counted when it is finished, as an MES counter does, so a part begun before a slot
    boundary counts in the slot where it ends.
    """
    good_at = np.sort(completed[good])
    scrap_at = np.sort(completed[~good])
    cols: dict[str, list] = {k: [] for k in PRODUCTION_COLUMNS}
    for s, e, product, wo in md.products:
        a, b = max(s, day.start), min(e, day.end)
        if b <= a:
            continue
        marks = np.arange((a // 3600 + 1) * 3600, b, 3600)
        bounds = np.concatenate([[a], marks, [b]])
        n_good = np.diff(np.searchsorted(good_at, bounds, side="left"))
        n_scrap = np.diff(np.searchsorted(scrap_at, bounds, side="left"))
        n = len(n_good)
        cols["machine_id"].append(np.full(n, machine.id, dtype=object))
        cols["start_ts"].append(bounds[:-1])
        cols["end_ts"].append(bounds[1:])
        cols["product_id"].append(np.full(n, product, dtype=object))
        cols["work_order_id"].append(np.full(n, wo, dtype=object))
        cols["good_qty"].append(n_good.astype(np.int64))
        cols["scrap_qty"].append(n_scrap.astype(np.int64))
    return {
        k: (
            np.concatenate(v)
            if v
            else np.array(
                [], dtype=object if k in ("machine_id", "product_id", "work_order_id") else np.int64
            )
        )
        for k, v in cols.items()
    }


def as_datetime(seconds: float) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=float(np.floor(seconds)))
