"""The vectorised engine against closed forms and the properties a planner relies on.

Lines run 2 weeks of two 8-hour shifts on weekdays (160 open hours). Seeds are fixed; replication
counts are chosen so the standard error of a mean is at most a quarter of its tolerance.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from twin.simulation import engine, reference
from twin.simulation.line_model import (
    Deterministic,
    Exponential,
    LineParams,
    LogNormal,
    MachineParams,
)

DAYS = 14
SHIFTS = tuple((d * 24 + 6.0, d * 24 + 22.0) for d in range(DAYS) if d % 7 < 5)
OPEN_H = 160.0
WEEKS = (0.0, 168.0, 336.0)


def machine(
    i: int, rate: float = 30.0, mtbf: float | None = None, mttr: float = 1.0, **kw
) -> MachineParams:
    tbf = Exponential(mtbf) if mtbf else None
    return MachineParams(id=f"M{i}", rate_per_h=rate, tbf=tbf, repair=LogNormal(mttr, 0.5), **kw)


def line(machines, buffer: int = 5, edges=WEEKS, **kw) -> LineParams:
    ms = tuple(machines)
    return LineParams("L", ms, (buffer,) * (len(ms) - 1), SHIFTS, 336.0, edges, **kw)


@pytest.mark.parametrize("sim", [engine.simulate, reference.simulate])
def test_without_failures_output_is_rate_times_open_hours_and_nothing_outside_shifts(sim) -> None:
    hourly = tuple(float(h) for h in range(337))
    res = sim(line([machine(0, rate=30.0)], edges=hourly), 2, 1)
    assert res.total_output() == pytest.approx([30.0 * OPEN_H] * 2, abs=1e-6)
    open_hour = np.array([any(a <= h < b for a, b in SHIFTS) for h in range(336)])
    assert np.all(res.output[:, ~open_hour] == 0)
    assert res.output[:, open_hour] == pytest.approx(30.0, abs=1e-6)
    assert res.open_hours.sum() == pytest.approx(OPEN_H)


@pytest.mark.parametrize("sim", [engine.simulate, reference.simulate])
def test_planned_maintenance_and_line_down_remove_exactly_their_open_hours(sim) -> None:
    pm = machine(1, rate=30.0, planned=((30.0, 34.0), (40.0, 50.0)))  # 4 h + 6 h inside shifts
    res = sim(line([machine(0, rate=60.0), pm], buffer=10, line_down=((72.0, 120.0),)), 2, 1)
    # line down from day 3 00:00 to day 5 00:00 removes two 16-hour days
    open_left = OPEN_H - 32.0 - 10.0
    assert res.total_output() == pytest.approx([30.0 * open_left] * 2, abs=1.0)
    planned = res.hours["planned"][0].sum(axis=0)
    assert planned == pytest.approx([32.0, 42.0])


@pytest.mark.parametrize("sim", [engine.simulate, reference.simulate])
def test_state_hours_add_up_to_open_hours(sim) -> None:
    ms = [machine(i, rate=30.0 + 5 * i, mtbf=15.0, mttr=1.5) for i in range(3)]
    res = sim(line(ms, buffer=3), 5, 2)
    total = sum(res.hours[s] for s in res.hours)
    assert total == pytest.approx(
        np.broadcast_to(res.open_hours[None, :, None], total.shape), abs=0.02
    )


def test_single_machine_output_is_rate_times_availability() -> None:
    # availability = MTBF / (MTBF + MTTR) = 20 / 22; failures in operating time, repairs in open time
    res = engine.simulate(line([machine(0, rate=30.0, mtbf=20.0, mttr=2.0)]), 2000, 3)
    out = res.total_output()
    expected = 30.0 * OPEN_H * 20.0 / 22.0
    assert out.std() / np.sqrt(len(out)) < 0.005 * expected  # standard error << 2 %
    assert out.mean() == pytest.approx(expected, rel=0.02)
    down = res.expected_hours("down").sum()
    assert down == pytest.approx(OPEN_H * 2.0 / 22.0, rel=0.05)


def test_same_seed_same_result_other_seed_other_result() -> None:
    ln = line([machine(i, mtbf=10.0) for i in range(3)])
    a, b, c = (engine.simulate(ln, 50, s) for s in (7, 7, 8))
    assert np.array_equal(a.output, b.output)
    assert all(np.array_equal(a.hours[k], b.hours[k]) for k in a.hours)
    assert not np.array_equal(a.output, c.output)


def test_more_buffer_never_reduces_mean_throughput() -> None:
    ms = [machine(i, rate=30.0, mtbf=12.0, mttr=1.5) for i in range(4)]
    results = [engine.simulate(line(ms, buffer=b), 1000, 11).total_output() for b in (0, 2, 10, 40)]
    means = [r.mean() for r in results]
    se = max(r.std() for r in results) / np.sqrt(1000)
    for smaller, larger in itertools.pairwise(means):
        assert larger >= smaller - 3 * np.sqrt(2) * se
    assert means[-1] > means[0] * 1.05  # and buffers do matter on this line


def test_a_second_machine_at_the_bottleneck_raises_throughput_and_moves_the_constraint() -> None:
    ms = [machine(0, 40.0, 30.0), machine(1, 20.0, 30.0), machine(2, 40.0, 30.0)]
    one = engine.simulate(line(ms, buffer=10), 300, 5)
    two = engine.simulate(line(ms, buffer=10, parallel=(1, 2, 1)), 300, 5)
    assert two.total_output().mean() > 1.5 * one.total_output().mean()
    assert one.bottleneck_share().mean(axis=0).argmax() == 1
    assert two.bottleneck_share().mean(axis=0)[1] < 0.5


def test_near_term_hazard_override_lowers_early_output() -> None:
    from twin.simulation.line_model import HazardThen

    base = machine(0, mtbf=200.0, mttr=8.0)
    risky = MachineParams(
        id="M0",
        rate_per_h=30.0,
        tbf=Exponential(200.0),
        repair=LogNormal(8.0, 0.5),
        first_tbf=HazardThen(per_h=0.05, until_h=72.0, then=Exponential(200.0)),
    )
    calm = engine.simulate(line([base]), 500, 2).output[:, 0].mean()
    hot = engine.simulate(line([risky]), 500, 2).output[:, 0].mean()
    assert hot < calm * 0.97


def test_setups_take_their_share_of_time() -> None:
    every = MachineParams.setup_interval_for_fraction(0.1, setup_h=0.5)
    m = MachineParams(
        id="M0", rate_per_h=30.0, setup_every_h=every, setup_h=0.5, repair=Deterministic(0.0)
    )
    res = engine.simulate(line([m]), 200, 4)
    assert res.total_output().mean() == pytest.approx(30.0 * OPEN_H * 0.9, rel=0.01)
    assert res.expected_hours("setup").sum() == pytest.approx(OPEN_H * 0.1, rel=0.03)
