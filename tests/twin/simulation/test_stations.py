"""Declared stations (plant model ``station``): parallel machines at one step of a line.

Line A: a fast feeder (20 s), a turning station, a fast finisher (20 s); the station's machines take
60 s a part, so the station stays the line's constraint with one machine or two. One early shift
Mon-Fri (the small plant's calendar), 3 weeks.
"""

import copy

import pytest

from tests.support.small_plant import BASE, RAW, START
from twin.plant.model import parse_plant
from twin.simulation.capacity import capacity_tables, simulate_lines
from twin.simulation.line_model import Exponential, LogNormal, MachineParams, Weibull
from twin.simulation.line_params import build_line_params, combine_station
from twin.simulation.machine_fit import Priors
from twin.simulation.scenarios import parse_scenario

PRIORS = Priors(mtbf_h=40.0, mttr_h=1.5)


def _plant(turners: int):
    raw = copy.deepcopy(RAW)
    machine = {"type": "lathe", "ideal_cycle_time_s": {"P1": 60.0, "P2": 60.0}}
    station = [
        {**machine, "id": f"A2{'ab'[i]}", **({"station": "turning"} if turners > 1 else {})}
        for i in range(turners)
    ]
    raw["lines"][0]["machines"] = [
        {"id": "A1", "type": "mill", "ideal_cycle_time_s": {"P1": 20.0, "P2": 20.0}},
        *station,
        {"id": "A3", "type": "wash", "ideal_cycle_time_s": {"P1": 20.0, "P2": 20.0}},
    ]
    return parse_plant(raw)


def _run(plant, s=BASE):
    lines = build_line_params(plant, None, None, None, s, START, priors=PRIORS)
    results = simulate_lines(lines, 60, 11)
    cap, cm = capacity_tables(plant, lines, results, s.id, START)
    return lines, cap, cm


def _week(cap, resource: str, column: str = "capacity_units") -> float:
    sel = (cap["resource_id"] == resource) & (cap["bucket_grain"] == "week")
    return float(cap.loc[sel & (cap["quantile"] == "p50"), column].sum())


@pytest.fixture(scope="module")
def one_and_two():
    return _run(_plant(1)), _run(_plant(2))


def test_a_declared_station_is_one_engine_station_of_parallel_machines(one_and_two) -> None:
    (single, _, _), (double, _, _) = one_and_two
    a = double["A"]
    assert a.counts == (1, 2, 1)
    assert a.station_members == (("A1",), ("A2a", "A2b"), ("A3",))
    assert a.machines[1].id == "A/turning"
    assert a.machines[1].rate_per_h == pytest.approx(60.0)
    assert single["A"].counts == (1, 1, 1)
    assert single["A"].members is None


def test_two_machines_at_the_constraint_about_double_the_line(one_and_two) -> None:
    (_, one, _), (_, two, cm) = one_and_two
    assert set(two.loc[two["resource_level"] == "machine", "resource_id"]) >= {"A2a", "A2b"}
    # each machine row carries the station's per-machine figures, the rows add up to the station
    for col in ("rate_units_per_hour", "available_hours", "bottleneck_share"):
        assert _week(two, "A2a", col) == pytest.approx(_week(two, "A2b", col))
    station = _week(two, "A2a") + _week(two, "A2b")
    assert 1.9 < station / _week(one, "A2a") < 2.1
    assert 1.8 < _week(two, "A") / _week(one, "A") < 2.05  # the line follows its constraint
    # constraint_map: both machines, the station's share, ranks unique (ties in flow order)
    week = cm[(cm["line_id"] == "A") & (cm["bucket_grain"] == "week")]
    assert set(week["machine_id"]) == {"A1", "A2a", "A2b", "A3"}
    keys = ["scenario_id", "bucket_start", "rank"]
    assert not week.duplicated(keys).any()
    first = week[week["bucket_start"] == week["bucket_start"].min()].set_index("machine_id")
    assert first.loc["A2a", "bottleneck_share"] == first.loc["A2b", "bottleneck_share"]
    assert (first.loc["A2a", "rank"], first.loc["A2b", "rank"]) == (1, 2)


def test_added_machine_names_a_declared_station_by_a_machine_id() -> None:
    plant = _plant(2)
    for station in ("A2b", "bottleneck"):
        change = {"type": "added_machine", "line": "A", "station": station}
        added = parse_scenario({"id": "s", "horizon_weeks": 3, "changes": [change]}, plant)
        assert build_line_params(plant, None, None, None, added, START)["A"].counts == (1, 3, 1)


def test_combined_parameters_keep_the_stations_rate_and_downtime() -> None:
    a = MachineParams("a", 50.0, 0.9, 0.02, Exponential(20.0), LogNormal(1.0, 0.5))
    b = MachineParams("b", 40.0, 0.8, 0.04, Exponential(60.0), LogNormal(3.0, 0.7))
    s = combine_station("L/s", [a, b])
    assert 2 * s.effective_rate == pytest.approx(a.effective_rate + b.effective_rate)
    good = a.effective_rate * 0.98 + b.effective_rate * 0.96
    assert 2 * s.effective_rate * (1 - s.scrap) == pytest.approx(good)
    assert s.tbf.mean == pytest.approx(2 / (1 / 20 + 1 / 60))  # pooled failure rate
    assert 2 * s.repair.mean / s.tbf.mean == pytest.approx(1.0 / 20 + 3.0 / 60)
    w = combine_station(
        "L/w",
        [
            MachineParams("c", 30.0, tbf=Weibull(2.0, 50.0)),
            MachineParams("d", 30.0, tbf=Weibull(3.0, 50.0)),
        ],
    )
    assert isinstance(w.tbf, Weibull)
    assert w.tbf.shape == pytest.approx(2.5)
    mean = 2 / (1 / Weibull(2.0, 50.0).mean + 1 / Weibull(3.0, 50.0).mean)
    assert w.tbf.mean == pytest.approx(mean)
    assert w.rate_per_h == pytest.approx(30.0)
