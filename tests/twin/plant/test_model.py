"""The plant model is loaded strictly: every mistake is an error naming the file and the key."""

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from twin.paths import DEMO_PLANT
from twin.plant.calendar import day_window, shift_windows
from twin.plant.model import PlantModelError, load_plant, parse_plant


@pytest.fixture
def demo_raw() -> dict:
    return yaml.safe_load(DEMO_PLANT.read_text())


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_demo_plant_has_three_lines_of_several_machine_types() -> None:
    plant = load_plant(DEMO_PLANT)
    assert len(plant.lines) == 3
    assert 15 <= len(plant.machines) <= 20
    assert len({m.type for m in plant.machines}) >= 5
    assert all(4 <= len(m.tags) <= 6 for m in plant.machines)
    assert [s.name for s in plant.calendar.shifts] == ["early", "late"]
    assert any(t.signal == "power" and t.unit == "kW" for _, t in plant.iter_tags())


def test_an_unknown_key_names_the_file_and_the_key(tmp_path, demo_raw) -> None:
    demo_raw["lines"][1]["machines"][2]["cycle_time"] = 30  # typo of ideal_cycle_time_s
    path = _write(tmp_path, demo_raw)
    with pytest.raises(PlantModelError) as error:
        load_plant(path)
    assert str(path) in str(error.value)
    assert "lines.1.machines.2" in str(error.value)
    assert "unknown key 'cycle_time'" in str(error.value)


def test_a_duplicate_machine_id_is_an_error(demo_raw) -> None:
    demo_raw["lines"][2]["machines"][0]["id"] = demo_raw["lines"][0]["machines"][0]["id"]
    with pytest.raises(PlantModelError, match=r"duplicate id\(s\) in machines: \['L1-M01'\]"):
        parse_plant(demo_raw)


def test_a_duplicate_tag_is_an_error(demo_raw) -> None:
    machine = demo_raw["lines"][0]["machines"][0]
    machine["tags"].append(copy.deepcopy(machine["tags"][0]))
    with pytest.raises(PlantModelError, match=r"duplicate id.* in tags"):
        parse_plant(demo_raw)


def test_a_tag_outside_any_machine_is_an_error(demo_raw) -> None:
    demo_raw["tags"] = [
        {
            "tag": "X.temp",
            "signal": "temperature",
            "unit": "degC",
            "period_s": 5,
            "min": 0,
            "max": 1,
        }
    ]
    with pytest.raises(PlantModelError, match=r"unknown key 'tags'.*under the machine"):
        parse_plant(demo_raw)


def test_a_tag_filed_under_the_wrong_machine_is_an_error(demo_raw) -> None:
    tag = demo_raw["lines"][0]["machines"][1]["tags"].pop(0)
    demo_raw["lines"][0]["machines"][0]["tags"].append(tag)
    with pytest.raises(
        PlantModelError, match="listed under machine 'L1-M01' but names machine 'L1-M02'"
    ):
        parse_plant(demo_raw)


@pytest.mark.parametrize("seconds", [0, -3.5])
def test_a_non_positive_cycle_time_is_an_error(demo_raw, seconds) -> None:
    demo_raw["lines"][0]["machines"][0]["ideal_cycle_time_s"]["P100"] = seconds
    with pytest.raises(PlantModelError, match=r"lines\.0\.machines\.0\.ideal_cycle_time_s\.P100"):
        parse_plant(demo_raw)


def test_a_cycle_time_for_an_unknown_product_is_an_error(demo_raw) -> None:
    demo_raw["lines"][0]["machines"][0]["ideal_cycle_time_s"]["P999"] = 10
    with pytest.raises(PlantModelError, match=r"unknown product.*P999"):
        parse_plant(demo_raw)


def test_a_bad_timezone_and_a_bad_clock_are_errors(demo_raw) -> None:
    demo_raw["site"]["timezone"] = "Europe/Berlinn"
    demo_raw["calendar"]["shifts"][0]["end"] = "25:00"
    with pytest.raises(PlantModelError) as error:
        parse_plant(demo_raw)
    assert "site.timezone" in str(error.value)
    assert "calendar.shifts.0.end" in str(error.value)


def test_a_missing_file_and_invalid_yaml_are_clear(tmp_path) -> None:
    with pytest.raises(PlantModelError, match="not found"):
        load_plant(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {id: [unclosed")
    with pytest.raises(PlantModelError, match="not valid YAML"):
        load_plant(bad)


def test_an_unquoted_clock_time_is_read_as_a_clock(tmp_path, demo_raw) -> None:
    path = tmp_path / "plant.yaml"
    text = yaml.safe_dump(demo_raw).replace("'14:00'", "14:00")
    path.write_text(text)
    plant = load_plant(path)
    assert plant.calendar.shifts[0].end == "14:00"


def test_shift_windows_respect_dst_midnight_and_holidays(demo_raw) -> None:
    demo_raw["calendar"]["shifts"].append(
        {"name": "night", "start": "22:00", "end": "06:00", "days": ["sat"]}
    )
    demo_raw["calendar"]["holidays"] = ["2026-10-26"]
    plant = parse_plant(demo_raw)
    # 2026-10-25 (Sunday) is the autumn DST change in Europe/Berlin: 25 hours long.
    assert day_window(plant, dt.date(2026, 10, 25)).hours == 25
    assert day_window(plant, dt.date(2026, 3, 29)).hours == 23
    windows = shift_windows(plant, dt.date(2026, 10, 24), dt.date(2026, 10, 26))
    # Saturday's night shift crosses midnight into the DST night: 22:00 to 06:00 is 9 hours.
    assert [(w.name, w.hours) for w in windows] == [("night", 9.0)]
    assert windows[0].start == dt.datetime(2026, 10, 24, 20, 0)
    assert windows[0].end == dt.datetime(2026, 10, 25, 5, 0)


def test_consecutive_machines_of_one_station_work_in_parallel(demo_raw) -> None:
    machines = demo_raw["lines"][0]["machines"]
    machines[2]["station"] = "drilling"
    machines[3]["station"] = "drilling"
    plant = parse_plant(demo_raw)
    line = plant.lines[0]
    assert [[m.id for m in s] for s in line.stations][1:4] == [
        ["L1-M02"],
        ["L1-M03", "L1-M04"],
        ["L1-M05"],
    ]
    assert len(line.stations) == 5
    assert all(
        len(s) == 1 for s in parse_plant(yaml.safe_load(DEMO_PLANT.read_text())).lines[1].stations
    )


def test_a_station_whose_machines_are_not_consecutive_is_an_error(demo_raw) -> None:
    machines = demo_raw["lines"][1]["machines"]
    machines[0]["station"] = "press"
    machines[2]["station"] = "press"
    with pytest.raises(PlantModelError) as error:
        parse_plant(demo_raw, source="plant.yaml")
    assert str(error.value) == (
        "plant.yaml: lines.1: line 'L2': the machines of station 'press' ['L2-M01', 'L2-M03'] "
        "must be consecutive in flow order (machines in parallel at one step of the line)"
    )


def test_failure_modes_declare_which_modes_give_no_warning(demo_raw) -> None:
    assert parse_plant(demo_raw).modes_without_precursor == {"electrical_fault"}
    del demo_raw["failure_modes"]
    # without the key every failure counts as detectable, as before the key existed
    assert parse_plant(demo_raw).modes_without_precursor == frozenset()


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        ([{"id": "bearing_wear", "precursor": "sometimes"}], r"failure_modes\.0\.precursor"),
        ([{"id": "bearing_wear", "warning": False}], r"unknown key 'warning'"),
        ([{"id": "a", "precursor": False}, {"id": "a"}], r"duplicate id.* in failure_modes"),
        ([{"precursor": False}], r"failure_modes\.0\.id"),
    ],
)
def test_a_bad_failure_mode_declaration_is_an_error(demo_raw, modes, expected) -> None:
    demo_raw["failure_modes"] = modes
    with pytest.raises(PlantModelError, match=expected):
        parse_plant(demo_raw)
