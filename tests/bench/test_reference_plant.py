"""The reference-simulated plant's landing files (bench/reference_plant.py) say what its MES says:
only RUNNING, UNPLANNED_DOWNTIME and OFF, every hour of every machine once, parts counted where
they were made, and work orders spanning what a repair interrupted by a shift end spans."""

import datetime as dt
import itertools

import pandas as pd
import pytest

from bench import reference_plant
from twin.paths import SOURCES

FIRST = dt.date(2026, 5, 4)  # a Monday, no DST change in America/Chicago for weeks


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return reference_plant.simulate_history(FIRST, 7, seed=5)


def _hours(frame: pd.DataFrame) -> pd.Series:
    a = pd.to_datetime(frame["start_ts"].str.rstrip("Z"))
    b = pd.to_datetime(frame["end_ts"].str.rstrip("Z"))
    return (b - a).dt.total_seconds() / 3600


def test_states_are_running_down_or_off_and_cover_the_week_once(frames) -> None:
    states = frames["mes_states"]
    assert set(states["state"]) <= {"RUNNING", "UNPLANNED_DOWNTIME", "OFF"}
    per_machine = states.assign(h=_hours(states)).groupby(["machine_id", "state"])["h"].sum()
    for machine in reference_plant.TRUE:
        assert per_machine[machine].sum() == pytest.approx(7 * 24, abs=1e-3)
        # 2 x 8 h on 5 weekdays are the shifts; the rest is OFF
        assert per_machine[machine]["OFF"] == pytest.approx(7 * 24 - 80, abs=1e-3)


def test_parts_flow_down_the_line_and_the_constraint_loses_its_repairs(frames) -> None:
    made = frames["mes_production"].groupby("machine_id")[["good_qty", "scrap_qty"]].sum()
    for line in reference_plant.PLANT_RAW["lines"]:
        ids = [m["id"] for m in line["machines"]]
        good = made.loc[ids, "good_qty"].to_numpy()
        # a machine cannot pass on more good parts than it received (+ its buffer's start stock)
        for up, down in itertools.pairwise(ids):
            taken = made.loc[down, "good_qty"] + made.loc[down, "scrap_qty"]
            assert taken <= made.loc[up, "good_qty"] + line["buffer_capacity"]
        assert good.min() > 0
    cmms = frames["cmms"]
    assert set(cmms["type"]) == {"CORRECTIVE"}
    downs = frames["mes_states"].query("state == 'UNPLANNED_DOWNTIME'")
    # every booked breakdown piece lies inside its machine's work order (still open when the
    # repair outlasts the window); an order spans closed hours when a shift end interrupts it
    end = cmms["end_ts"].where(cmms["end_ts"] != "", "9999")
    for piece in downs.itertuples():
        inside = (
            (cmms["machine_id"] == piece.machine_id)
            & (cmms["start_ts"] <= piece.start_ts)
            & (end >= piece.end_ts)
        )
        assert inside.sum() == 1, piece
    assert set(zip(cmms["machine_id"], cmms["start_ts"], strict=True)) <= set(
        zip(downs["machine_id"], downs["start_ts"], strict=True)
    )


def test_landing_files_are_per_source_and_local_day(frames, tmp_path) -> None:
    written = reference_plant.write_landing(frames, tmp_path, reference_plant.plant())
    files = sorted(tmp_path.rglob("*.csv"))
    assert len(files) == written
    assert {f.parent.name for f in files} <= set(SOURCES)
    states = pd.read_csv(tmp_path / "mes_states" / "mes_states_2026-05-09.csv")  # a Saturday
    assert set(states["state"]) == {"OFF"}
    assert _hours(states).groupby(states["machine_id"]).sum().eq(24).all()
