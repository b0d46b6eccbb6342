"""The engine agrees with the SimPy reference: mean within 2 %, P10 and P90 within 5 %.

Two weeks, two shifts (160 open hours). Rates are 30-40 parts/h so the part-by-part reference stays
cheap; the engine's fluid model does not depend on the rate. Engine: 2000 replications (standard
error ~0.1 %). Reference: 80-150 replications; the standard error of the reference mean is asserted
below 0.5 %, a quarter of the 2 % tolerance, so a pass is not luck and a model difference of 2 %
cannot hide.
"""

from __future__ import annotations

import numpy as np
import pytest

from twin.simulation import engine, reference
from twin.simulation.line_model import (
    Deterministic,
    Exponential,
    HazardThen,
    LineParams,
    LogNormal,
    MachineParams,
    Weibull,
)
from twin.simulation.line_params import combine_station

SHIFTS = tuple((d * 24 + 6.0, d * 24 + 22.0) for d in range(14) if d % 7 < 5)
WEEKS = (0.0, 168.0, 336.0)
ENGINE_REPS = 1000
SAMPLE_H = 5 / 60  # bottleneck sampling period of the reference = the engine's step


def _m(i: int, rate: float, mtbf: float, mttr: float, **kw) -> MachineParams:
    return MachineParams(f"M{i}", rate, tbf=Exponential(mtbf), repair=LogNormal(mttr, 0.6), **kw)


def _line(ms, buffer: int, **kw) -> LineParams:
    return LineParams("L", tuple(ms), (buffer,) * (len(ms) - 1), SHIFTS, 336.0, WEEKS, **kw)


BALANCED = [_m(i, 30.0, 8.0, 0.8) for i in range(4)]
UNBALANCED = [
    _m(0, 40.0, 20.0, 1.0),
    _m(1, 38.0, 20.0, 1.0),
    _m(2, 28.0, 25.0, 1.5),
    _m(3, 40.0, 20.0, 1.0),
]
RICH = [
    MachineParams(
        "A",
        36.0,
        performance=0.9,
        scrap=0.02,
        tbf=Weibull(1.5, 18.0),
        repair=LogNormal(1.2, 0.8),
        setup_every_h=8.0,
        setup_h=0.4,
        planned=((54.0, 58.0),),
    ),
    MachineParams(
        "B",
        34.0,
        tbf=Exponential(25.0),
        repair=LogNormal(2.0, 0.5),
        first_tbf=HazardThen(0.03, 72.0, Exponential(25.0)),
    ),
    MachineParams("C", 40.0, scrap=0.01, tbf=Exponential(20.0), repair=Deterministic(1.0)),
]

CONFIGS = {
    "one machine": (_line([_m(0, 30.0, 10.0, 1.0)], 0), 60, None),
    "balanced, small buffers": (_line(BALANCED, 1), 80, None),
    "balanced, large buffers": (_line(BALANCED, 30), 60, None),
    "unbalanced, no buffer": (_line(UNBALANCED, 0), 80, 2),
    "unbalanced, medium buffers": (_line(UNBALANCED, 8), 80, 2),
    "parallel bottleneck": (
        _line([*UNBALANCED[:2], _m(2, 18.0, 12.0, 0.8), *UNBALANCED[3:]], 5, parallel=(1, 1, 2, 1)),
        80,
        None,
    ),
    # a plant station of two unlike machines, combined as build_line_params does (line_params)
    "declared station, combined fits": (
        _line(
            [
                *UNBALANCED[:2],
                combine_station("L/s", [_m(2, 16.0, 10.0, 0.8), _m(3, 20.0, 18.0, 1.2)]),
                UNBALANCED[3],
            ],
            5,
            parallel=(1, 1, 2, 1),
            members=(("M0",), ("M1",), ("M2", "M3"), ("M4",)),
        ),
        80,
        None,
    ),
    "scrap, setups, maintenance, near-term risk": (
        _line(RICH, 4, line_down=((100.0, 110.0),)),
        80,
        None,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_engine_agrees_with_reference(name: str) -> None:
    ln, ref_reps, bottleneck = CONFIGS[name]
    eng = engine.simulate(ln, ENGINE_REPS, seed=101)
    ref = reference.simulate(ln, ref_reps, seed=202, sample_h=SAMPLE_H)
    e, r = eng.total_output(), ref.total_output()
    assert r.std() / np.sqrt(len(r)) < 0.006 * r.mean()  # the 2 % tolerance is > 3 SE
    assert e.mean() == pytest.approx(r.mean(), rel=0.02)
    for q in (0.1, 0.9):
        assert np.quantile(e, q) == pytest.approx(np.quantile(r, q), rel=0.05)
    for state in ("down", "planned"):
        assert eng.expected_hours(state).sum(axis=0) == pytest.approx(
            ref.expected_hours(state).sum(axis=0), rel=0.15, abs=0.5
        )
    if bottleneck is not None:
        assert eng.bottleneck_share().mean(axis=0).argmax() == bottleneck
        assert ref.bottleneck_share().mean(axis=0).argmax() == bottleneck
