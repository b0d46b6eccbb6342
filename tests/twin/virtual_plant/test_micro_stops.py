"""Micro-stops: waits shorter than MICRO_STOP_S are running time (a speed loss), longer ones one
idle stop; the twin's idle calibration gives the engine the speed such losses hide, once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from twin.simulation.engine import simulate_many
from twin.simulation.idle_calibration import calibrate_own_idle, with_own_idle
from twin.simulation.line_model import Exponential, LineParams, LogNormal, MachineParams
from twin.virtual_plant.mes import BLOCKED, MATERIAL, OFF, RUNNING, STARVED
from twin.virtual_plant.micro_stops import MICRO_STOP_S, fold_micro_stops


def _codes(*pieces: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(n, c, np.uint8) for c, n in pieces])


def test_short_waits_run_and_long_ones_are_one_stop_with_the_main_reason() -> None:
    short = MICRO_STOP_S - 1
    codes = _codes(
        (RUNNING, 50),
        (STARVED, short),  # a micro-stop
        (RUNNING, 50),
        (BLOCKED, 20),  # blocked then starved back to back: one stop, mostly starved
        (STARVED, MICRO_STOP_S),
        (MATERIAL, 100),  # the machine's own stop is not the flow's business
        (BLOCKED, short),
        (OFF, 10),
    )
    out = fold_micro_stops(codes)
    expected = _codes(
        (RUNNING, 50 + short + 50),
        (STARVED, 20 + MICRO_STOP_S),
        (MATERIAL, 100),
        (RUNNING, short),
        (OFF, 10),
    )
    assert np.array_equal(out, expected)
    assert out.dtype == codes.dtype
    no_wait = _codes((RUNNING, 10), (MATERIAL, 5))
    assert np.array_equal(fold_micro_stops(no_wait), no_wait)


def _line(fast_performance: float) -> LineParams:
    """A 60/h machine that fails feeding a 100/h one; 4 weeks of two 8-h shifts, 5 days a week."""
    shifts = tuple(
        (24.0 * d + a, 24.0 * d + b) for d in range(28) if d % 7 < 5 for a, b in ((6, 14), (14, 22))
    )
    slow = MachineParams(
        "M1", 60.0, tbf=Exponential(12.0), repair=LogNormal(1.5, 0.7)
    )  # fmt: skip
    fast = MachineParams("M2", 100.0, performance=fast_performance)
    return LineParams("L", (slow, fast), (10,), shifts, 28 * 24.0, (0.0, 28 * 24.0))


def test_calibration_gives_back_the_speed_that_micro_stops_hide() -> None:
    """History as an MES books it when every wait of the fast machine is a micro-stop: no idle,
    running = operating + starved + blocked, KPI performance = ideal output / running. The engine
    starves and blocks that machine itself, so it must run at its true speed, not the KPI one."""
    truth = simulate_many([_line(1.0)], 32, 11)[0]
    made = truth.output.sum()  # no scrap: every part M1 makes passes M2
    running = sum(truth.hours[k][:, :, 1].sum() for k in ("operating", "starved", "blocked"))
    kpi_performance = made / (100.0 * running)
    assert kpi_performance < 0.75  # the micro-stops are a large speed loss in the KPIs

    seen = _line(float(kpi_performance))
    own = calibrate_own_idle([seen], {"M1": 0.0, "M2": 0.0})
    assert own["M2"] < 0  # negative own idle: faster than the KPI performance says
    calibrated = with_own_idle(seen, own)
    assert calibrated.machines[1].performance == pytest.approx(1.0, abs=0.05)
    out = simulate_many([calibrated], 32, 12)[0].output.sum()
    assert out == pytest.approx(made, rel=0.02)
    # counted twice (KPI speed and simulated starving) the fast machine would hold the line back
    twice = simulate_many([dataclasses.replace(seen)], 32, 12)[0].output.sum()
    assert twice < 0.97 * made
