"""Scenarios load strictly: every mistake is a ScenarioError naming the file and the key."""

from pathlib import Path

import pytest
import yaml

from tests.support.foreign_plant import (
    FOREIGN,
    FOREIGN_RAW,
    TWO_LINES,
    TWO_LINES_BOTTLENECK,
    write_plant,
)
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
    bottleneck_line,
    load_scenario,
    load_scenarios,
    parse_scenario,
    scenario_folder_for,
)

PLANT = load_plant(DEMO_PLANT)
DEMO_SCENARIOS = DEMO_PLANT.parent / "scenarios"


@pytest.fixture(autouse=True)
def _no_scenario_folder_set(monkeypatch) -> None:
    monkeypatch.delenv("TWIN_SCENARIOS", raising=False)


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


def test_the_demo_plants_six_scenarios_load_against_the_demo_plant() -> None:
    assert scenario_folder_for(DEMO_PLANT) == DEMO_SCENARIOS  # its own folder, next to demo.yaml
    scenarios = {s.id: s for s in load_scenarios(DEMO_SCENARIOS, PLANT)}
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
        assert {type(c) for c in scenarios[sid].changes} == {kind}  # machine: all = one per machine
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


GENERIC = {"baseline", "pm_window_moved", "line_down", "extra_shift", "added_machine"}


def test_the_shipped_generic_set_names_no_line_or_machine_id() -> None:
    for path in sorted(SHIPPED.glob("*.yaml")):
        for change in yaml.safe_load(path.read_text())["changes"]:
            assert change.get("line", "all") in ("all", "bottleneck"), path
            assert change.get("machine", "all") == "all", path
            assert change.get("station", "bottleneck") == "bottleneck", path
            assert change.get("lines", "all") == "all", path
            assert change["type"] != "product_mix", path  # needs product ids: demo set only


def test_the_shipped_generic_set_fits_a_foreign_plant() -> None:
    scenarios = {s.id: s for s in load_scenarios(SHIPPED, FOREIGN)}
    assert set(scenarios) == GENERIC
    (pm,) = scenarios["pm_window_moved"].changes
    assert (pm.machine, pm.line) == ("P1-PRESS", "P1")
    (down,) = scenarios["line_down"].changes
    assert down.line == "P1"
    (added,) = scenarios["added_machine"].changes
    assert (added.line, added.station) == ("P1", "bottleneck")
    (shift,) = scenarios["extra_shift"].changes
    assert shift.lines == ["P1"]


def test_the_shipped_generic_set_resolves_to_the_ids_of_a_two_line_plant() -> None:
    scenarios = {s.id: s for s in load_scenarios(SHIPPED, TWO_LINES)}
    assert set(scenarios) == GENERIC
    moves = scenarios["pm_window_moved"].changes
    assert [(c.machine, c.line) for c in moves] == [("K1-A", "K1"), ("K1-B", "K1"), ("K2-A", "K2")]
    assert [c.line for c in scenarios["line_down"].changes] == [TWO_LINES_BOTTLENECK]
    assert [c.line for c in scenarios["added_machine"].changes] == [TWO_LINES_BOTTLENECK]
    assert scenarios["extra_shift"].changes[0].lines == ["K1", "K2"]


def test_the_shipped_generic_set_also_fits_the_demo_plant() -> None:
    assert {s.id for s in load_scenarios(SHIPPED, PLANT)} == GENERIC


def test_the_bottleneck_line_is_the_one_computed_by_hand() -> None:
    # tests/support/foreign_plant.py: K1's slowest station needs 30 s per part, K2's 35 s
    assert bottleneck_line(TWO_LINES) == TWO_LINES_BOTTLENECK == "K2"
    raw = {
        "id": "b",
        "changes": [{"type": "line_down", "line": "bottleneck", "days": 1, "start_day": 0}],
    }
    assert parse_scenario(raw, TWO_LINES).changes[0].line == "K2"


def test_line_all_is_one_change_per_line_and_explicit_ids_still_work() -> None:
    raw = {"id": "a", "changes": [{"type": "line_down", "line": "all", "days": 1, "start_day": 0}]}
    assert [c.line for c in parse_scenario(raw, TWO_LINES).changes] == ["K1", "K2"]
    raw = {"id": "k", "changes": [{"type": "line_down", "line": "K1", "days": 1, "start_day": 0}]}
    assert [c.line for c in parse_scenario(raw, TWO_LINES).changes] == ["K1"]
    narrowed = {
        "id": "n",
        "changes": [{"type": "pm_window_moved", "line": "bottleneck", "shift_days": 2}],
    }
    assert [c.machine for c in parse_scenario(narrowed, TWO_LINES).changes] == ["K2-A"]


def test_every_problem_of_a_file_is_reported_one_line_each(tmp_path) -> None:
    raw = {
        "id": "two",
        "changes": [
            {"type": "line_down", "line": "L2", "days": 1, "start_day": 0},
            {"type": "pm_window_moved", "machine": "L1-M01", "shift_days": 3},
        ],
    }
    with pytest.raises(ScenarioError) as error:
        load_scenario(_write(tmp_path, raw), FOREIGN)
    assert len(error.value.problems) == 2
    assert "changes.0.line: unknown line 'L2'" in error.value.problems[0]
    assert "changes.1.machine: unknown machine 'L1-M01'" in error.value.problems[1]


def test_a_plant_file_next_to_a_scenarios_folder_gets_that_folder(tmp_path) -> None:
    plant_file = write_plant(tmp_path / "site")
    (tmp_path / "site" / "scenarios").mkdir()
    assert scenario_folder_for(plant_file) == tmp_path / "site" / "scenarios"


def test_a_plant_file_without_a_scenarios_folder_gets_the_shipped_set(tmp_path) -> None:
    plant_file = write_plant(tmp_path / "site")
    assert scenario_folder_for(plant_file) == SHIPPED
    assert {s.id for s in load_scenarios(scenario_folder_for(plant_file), FOREIGN)} == GENERIC


def test_twin_scenarios_wins_over_the_plants_folder_and_the_shipped_set(
    tmp_path, monkeypatch
) -> None:
    chosen = tmp_path / "mine"
    monkeypatch.setenv("TWIN_SCENARIOS", str(chosen))
    assert scenario_folder_for(DEMO_PLANT) == chosen  # the demo plant has its own folder
    assert scenario_folder_for(write_plant(tmp_path / "site", FOREIGN_RAW)) == chosen


def test_load_scenarios_defaults_to_the_folder_of_the_plant_in_force(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TWIN_PLANT", str(write_plant(tmp_path / "site")))
    assert {s.id for s in load_scenarios()} == GENERIC
