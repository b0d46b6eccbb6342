"""`twin check` in a child process, as a user runs it: a foreign plant with the shipped generic
scenarios is OK; a scenario that does not fit the plant is one line naming the file and the key."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.foreign_plant import write_plant

REPO = Path(__file__).resolve().parents[3]
BAD_LINE = {
    "id": "bad_line",
    "changes": [{"type": "line_down", "line": "L9", "days": 2, "start_day": 0}],
}
BAD_MACHINE = {
    "id": "bad_machine",
    "changes": [{"type": "pm_window_moved", "machine": "L1-M01", "shift_days": 3}],
}


def _twin(*argv: str, home: Path, plant: Path, scenarios: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWIN_", "DAGSTER_"))}
    env |= {"TWIN_HOME": str(home), "TWIN_PLANT": str(plant), "DO_NOT_TRACK": "1"}
    if scenarios is not None:
        env["TWIN_SCENARIOS"] = str(scenarios)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli.commands", *argv],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _scenarios(folder: Path, *raws: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "baseline.yaml").write_text(yaml.safe_dump({"id": "baseline"}))
    for raw in raws:
        (folder / f"{raw['id']}.yaml").write_text(yaml.safe_dump(raw))
    return folder


def test_a_foreign_plant_with_the_shipped_scenarios_is_ok(tmp_path) -> None:
    result = _twin("check", home=tmp_path / "home", plant=write_plant(tmp_path / "site"))
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("OK: plant FOREIGN")
    assert "1 line(s), 1 machine(s); 5 scenario(s)" in line


def test_a_scenario_naming_an_unknown_line_is_one_line_naming_file_and_key(tmp_path) -> None:
    scenarios = _scenarios(tmp_path / "scenarios", BAD_LINE)
    result = _twin(
        "check", home=tmp_path / "home", plant=write_plant(tmp_path / "site"), scenarios=scenarios
    )
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert "bad_line.yaml: changes.0.line: unknown line 'L9'" in line
    assert "Traceback" not in result.stdout + result.stderr


def test_two_bad_scenarios_are_two_lines(tmp_path) -> None:
    scenarios = _scenarios(tmp_path / "scenarios", BAD_LINE, BAD_MACHINE)
    result = _twin(
        "check", home=tmp_path / "home", plant=write_plant(tmp_path / "site"), scenarios=scenarios
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines
    assert "bad_line.yaml: changes.0.line:" in lines[0]
    assert "bad_machine.yaml: changes.0.machine:" in lines[1]


def test_a_missing_scenario_folder_is_a_problem(tmp_path) -> None:
    missing = tmp_path / "nowhere"
    result = _twin(
        "check", home=tmp_path / "home", plant=write_plant(tmp_path / "site"), scenarios=missing
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{missing}: TWIN_SCENARIOS: scenario folder not found"]


def test_run_with_a_bad_scenario_stops_before_claiming_any_landed_file(tmp_path) -> None:
    home = tmp_path / "home"
    landed = home / "landing" / "historian" / "2026-07-01.csv"
    landed.parent.mkdir(parents=True)
    landed.write_text("ts,tag,value\n")
    scenarios = _scenarios(tmp_path / "scenarios", BAD_LINE)
    result = _twin("run", home=home, plant=write_plant(tmp_path / "site"), scenarios=scenarios)
    assert result.returncode == 2
    assert "bad_line.yaml: changes.0.line: unknown line 'L9'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert landed.exists()
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == [
        Path("landing"),
        Path("landing/historian"),
        Path("landing/historian/2026-07-01.csv"),
    ]
