"""Scenarios load strictly: every mistake is a ScenarioError naming the file and the key."""

from pathlib import Path

import pytest
import yaml

from twin.paths import DEMO_PLANT
from twin.plant.model import load_plant
from twin.simulation.scenarios import (
    SHIPPED,
    AddedMachine,
    ExtraShift,
    LineDown,
    PmWindowMoved,
    ProductMix,
    ScenarioError,
    load_scenario,
    load_scenarios,
)

PLANT = load_plant(DEMO_PLANT)


def _write(tmp_path: Path, raw: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


def _error(tmp_path: Path, raw: dict) -> str:
    path = _write(tmp_path, raw)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path, PLANT)
    message = str(error.value)
    assert message.startswith(str(path)), message  # the file is named
    return message


def _one(change: dict) -> dict:
    return {"id": "x", "seed": 1, "changes": [change]}


def test_the_six_shipped_scenarios_load_against_the_demo_plant() -> None:
    scenarios = {s.id: s for s in load_scenarios(SHIPPED, PLANT)}
    assert set(scenarios) == {
        "baseline",
        "pm_window_moved",
        "line_down",
        "extra_shift",
        "added_machine",
        "product_mix",
    }
    assert scenarios["baseline"].changes == []
    kinds = {
        "pm_window_moved": PmWindowMoved,
        "line_down": LineDown,
        "extra_shift": ExtraShift,
        "added_machine": AddedMachine,
        "product_mix": ProductMix,
    }
    for sid, kind in kinds.items():
        assert [type(c) for c in scenarios[sid].changes] == [kind]
    assert all(s.horizon_weeks == 13 and s.replications == 500 for s in scenarios.values())


def test_defaults_are_thirteen_weeks_and_500_replications(tmp_path) -> None:
    s = load_scenario(_write(tmp_path, {"id": "plain"}), PLANT)
    assert (s.horizon_weeks, s.replications, s.changes) == (13, 500, [])


def test_an_unknown_key_names_the_key(tmp_path) -> None:
    message = _error(tmp_path, {"id": "x", "replicatons": 10})
    assert "replicatons: unknown key 'replicatons'" in message


def test_an_unknown_key_inside_a_change_names_its_position(tmp_path) -> None:
    message = _error(tmp_path, _one({"type": "line_down", "line": "L2", "days": 2, "start": 3}))
    assert "changes.0.start: unknown key 'start'" in message


def test_an_unknown_machine_is_an_error(tmp_path) -> None:
    message = _error(
        tmp_path, _one({"type": "pm_window_moved", "machine": "L9-M01", "shift_days": 7})
    )
    assert "changes.0.machine: unknown machine 'L9-M01'" in message


def test_a_machine_on_another_line_is_an_error(tmp_path) -> None:
    change = {"type": "pm_window_moved", "machine": "L1-M01", "line": "L2", "shift_days": 7}
    assert "is on line 'L1', not 'L2'" in _error(tmp_path, _one(change))


def test_an_unknown_line_is_an_error(tmp_path) -> None:
    message = _error(tmp_path, _one({"type": "line_down", "line": "L7", "days": 2, "start_day": 0}))
    assert "changes.0.line: unknown line 'L7'" in message


def test_negative_days_are_an_error(tmp_path) -> None:
    message = _error(
        tmp_path, _one({"type": "line_down", "line": "L2", "days": -3, "start_day": 0})
    )
    assert "changes.0.days: Input should be greater than 0" in message


def test_a_bad_date_is_an_error(tmp_path) -> None:
    change = {"type": "line_down", "line": "L2", "days": 2, "start_date": "2026-02-30"}
    assert "changes.0.start_date: Input should be a valid date" in _error(tmp_path, _one(change))


def test_line_down_needs_exactly_one_start(tmp_path) -> None:
    change = {
        "type": "line_down",
        "line": "L2",
        "days": 2,
        "start_day": 1,
        "start_date": "2026-07-01",
    }
    assert "exactly one of start_day" in _error(tmp_path, _one(change))


def test_an_unknown_change_type_lists_the_known_ones(tmp_path) -> None:
    message = _error(tmp_path, _one({"type": "line_up", "line": "L2"}))
    assert "unknown change type" in message
    assert "line_down" in message


def test_a_pm_move_needs_either_days_or_weekend(tmp_path) -> None:
    assert "exactly one of shift_days" in _error(tmp_path, _one({"type": "pm_window_moved"}))


def test_a_bad_shift_clock_and_weekday_are_errors(tmp_path) -> None:
    change = {"type": "extra_shift", "name": "n", "start": "25:00", "end": "06:00", "days": ["sat"]}
    assert "changes.0.start" in _error(tmp_path, _one(change))
    change = {
        "type": "extra_shift",
        "name": "n",
        "start": "22:00",
        "end": "06:00",
        "days": ["sun-"],
    }
    assert "changes.0.days.0" in _error(tmp_path, _one(change))


def test_a_station_that_is_not_on_the_line_is_an_error(tmp_path) -> None:
    change = {"type": "added_machine", "line": "L3", "station": "L1-M01"}
    assert "changes.0.station" in _error(tmp_path, _one(change))


def test_product_mix_needs_known_products_made_on_the_line_summing_to_one(tmp_path) -> None:
    unknown = {"type": "product_mix", "line": "L1", "shares": {"P100": 0.5, "P999": 0.5}}
    assert "unknown product 'P999'" in _error(tmp_path, _one(unknown))
    not_made = {"type": "product_mix", "line": "L2", "shares": {"P100": 0.5, "P200": 0.5}}
    assert "no ideal cycle time for P100" in _error(tmp_path, _one(not_made))
    bad_sum = {"type": "product_mix", "line": "L1", "shares": {"P100": 0.5, "P200": 0.6}}
    assert "shares must sum to 1" in _error(tmp_path, _one(bad_sum))


def test_a_negative_seed_or_zero_replications_is_an_error(tmp_path) -> None:
    assert "seed" in _error(tmp_path, {"id": "x", "seed": -1})
    assert "replications" in _error(tmp_path, {"id": "x", "replications": 0})


def test_two_files_with_the_same_id_are_an_error(tmp_path) -> None:
    _write(tmp_path, {"id": "same"}, "a.yaml")
    _write(tmp_path, {"id": "same"}, "b.yaml")
    with pytest.raises(ScenarioError, match="id 'same' is also used by"):
        load_scenarios(tmp_path, PLANT)


def test_not_a_mapping_and_not_yaml_are_clear_errors(tmp_path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="a scenario is a mapping"):
        load_scenario(path, PLANT)
    path.write_text("id: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path, PLANT)
