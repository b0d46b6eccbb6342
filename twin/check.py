"""`twin check` (DESIGN §3.1): the plant model, the scenario set and the configuration, checked
against each other without running anything.

``check_setup`` returns every problem as one ``file: key: why`` line (empty when all is well) and
a one-line summary; the command line prints them, and ``twin run``, ``twin demo`` and ``twin ui``
call it before any work. What is checked, in order:

* the plant model (``TWIN_PLANT``, default the demo plant): it must load (``load_plant``); when it
  does not, nothing else can be checked against it;
* the scenario folder (``scenario_folder_for``): ``TWIN_SCENARIOS`` must name an existing folder;
  the folder must hold at least one scenario file, and every file must fit the plant (every
  problem of every file is reported);
* the failure-model configuration (``TWIN_ML_CONFIG``, when set): it must load (``ml.config``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from twin import settings
from twin.plant.model import Plant, PlantModelError, load_plant
from twin.simulation.scenarios import check_scenarios, scenario_files, scenario_folder_for


@dataclass(frozen=True)
class CheckReport:
    """What ``check_setup`` found: ``problems`` (``file: key: why`` lines) and what was checked."""

    plant_file: Path
    scenario_folder: Path
    plant: Plant | None = None
    scenarios: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: plant id, lines, machines and scenarios (or how many problems)."""
        if not self.ok:
            return f"{len(self.problems)} problem(s) found"
        assert self.plant is not None
        return (
            f"OK: plant {self.plant.site.id} ({self.plant_file}): {len(self.plant.lines)} line(s), "
            f"{len(self.plant.machines)} machine(s); {self.scenarios} scenario(s) "
            f"from {self.scenario_folder}"
        )


def _plant_problem(error: PlantModelError) -> str:
    return str(error)  # already "file: key: why"


def _scenario_folder_problems(folder: Path) -> list[str]:
    if not folder.is_dir():
        where = "TWIN_SCENARIOS" if settings.scenarios_dir() is not None else "scenarios"
        return [f"{folder}: {where}: scenario folder not found"]
    if not scenario_files(folder):
        return [f"{folder}: scenarios: no scenario files (*.yaml, *.yml) in the folder"]
    return []


def _ml_config_problems() -> list[str]:
    path = settings.ml_config_file()
    if path is None:
        return []
    from ml.config import load_config  # only when set: keeps the check light otherwise

    try:
        load_config(str(path))
    except FileNotFoundError:
        return [f"{path}: TWIN_ML_CONFIG: file not found"]
    except ValidationError as error:
        return [
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top)'}: "
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"]).removeprefix(
                "Value error, "
            )
            for e in error.errors()
        ]
    except yaml.YAMLError as error:
        return [f"{path}: TWIN_ML_CONFIG: not valid YAML: {' '.join(str(error).split())}"]
    except (ValueError, OSError) as error:
        text = str(error)
        return [text if text.startswith(str(path)) else f"{path}: TWIN_ML_CONFIG: {text}"]
    return []


def check_setup(plant_file: Path | None = None) -> CheckReport:
    """Check the plant model at ``plant_file`` (default TWIN_PLANT), its scenarios and the config."""
    plant_file = Path(plant_file) if plant_file is not None else settings.plant_file()
    folder = scenario_folder_for(plant_file)
    problems = _ml_config_problems()
    try:
        plant = load_plant(plant_file)
    except PlantModelError as error:
        return CheckReport(plant_file, folder, problems=[_plant_problem(error), *problems])
    folder_problems = _scenario_folder_problems(folder)
    scenarios, scenario_problems = ([], []) if folder_problems else check_scenarios(folder, plant)
    return CheckReport(
        plant_file,
        folder,
        plant=plant,
        scenarios=len(scenarios),
        problems=[*folder_problems, *scenario_problems, *problems],
    )
