"""The virtual plant with parallel machines at a station (plant model ``station``).

The shipped packaging plant: line PK1 has two labellers in parallel between the capper and the
case packer, sharing the buffers on either side. One week without defects.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import twin.virtual_plant.line_week as line_week
from tests.support.production import production_slots
from twin.paths import DEMO_PLANT
from twin.plant.model import Plant, load_plant
from twin.virtual_plant import flow
from twin.virtual_plant.flow import INITIAL_WIP
from twin.virtual_plant.generator import generate

PACKAGING = Path(__file__).parents[3] / "twin" / "plants" / "packaging" / "plant.yaml"
START = dt.date(2026, 10, 19)  # a Monday
LABELLERS = ("PK1-LAB-A", "PK1-LAB-B")


@pytest.fixture(scope="module")
def plant() -> Plant:
    return load_plant(PACKAGING)


@pytest.fixture(scope="module")
def production(plant: Plant, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    landing = tmp_path_factory.mktemp("parallel") / "landing"
    generate(plant, landing, days=7, start=START, seed=21, defects=False)
    frame = pd.concat(pd.read_csv(f) for f in (landing / "mes_production").glob("*"))
    return frame.assign(end_ts=pd.to_datetime(frame["end_ts"].str.rstrip("Z")))


def test_parts_out_of_the_parallel_station_are_parts_into_the_next(
    plant: Plant, production: pd.DataFrame
) -> None:
    line = plant.lines[0]
    assert [m.id for m in line.stations[2]] == list(LABELLERS)
    wip0 = math.floor(INITIAL_WIP * line.buffer_capacity)
    slots = production_slots(production)
    made = slots["good_qty"] + slots["scrap_qty"]
    station_good = slots["good_qty"][list(LABELLERS)].sum(axis=1).cumsum()
    station_made = made[list(LABELLERS)].sum(axis=1).cumsum()
    # never more out of a step than came into it plus its start stock, at any time of the week
    assert (station_made <= slots["good_qty"]["PK1-CAP"].cumsum() + wip0).all()
    assert (made["PK1-CSP"].cumsum() <= station_good + wip0).all()
    # over the week the buffer after the station only holds what it can: out of one = into the next
    into_next = made["PK1-CSP"].sum()
    assert abs(station_good.iloc[-1] - into_next) <= line.buffer_capacity
    # both machines work, sharing the station's parts about evenly (they are alike)
    each = slots["good_qty"][list(LABELLERS)].sum()
    assert (each > 0.4 * each.sum()).all(), each.to_dict()
    # two 54-s labellers make about what one 27-s machine would: the line's constraint
    assert into_next > 0.6 * 7 * 24 * 3600 / 27


def test_the_event_flow_reproduces_the_serial_recursion(monkeypatch, tmp_path: Path) -> None:
    """On a line without parallel machines the station flow gives the recursion's every second
    and part (the generator keeps the recursion for such lines: the demo's bytes are unchanged)."""
    demo = load_plant(DEMO_PLANT)
    demo = demo.model_copy(update={"lines": demo.lines[:1]})
    weeks = []

    def both(*args):
        serial = flow.simulate_week(*args)
        weeks.append((serial, flow._simulate_stations(*args)))
        return serial

    monkeypatch.setattr(line_week, "simulate_week", both)
    generate(demo, tmp_path / "landing", days=2, start=START, seed=3, defects=False)
    assert weeks
    for serial, stations in weeks:
        for a, b in zip(serial, stations, strict=True):
            assert np.array_equal(a.codes, b.codes)
            assert np.array_equal(a.completed, b.completed)
            assert np.array_equal(a.good, b.good)
