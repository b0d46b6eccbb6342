"""Short copies of a scenario set, for tests whose subject is not the scenario engine.

The copies keep each scenario's id, seed and changes, so the twin runs the same batch (the same
runs, partitions and tables) or a named part of it; only the horizon and the replications shrink,
which is most of a scenario run's seconds.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import yaml

from twin.simulation.scenarios import SHIPPED, scenario_files

DEMO = Path(__file__).resolve().parents[2] / "twin" / "plants" / "scenarios"


def write_short_scenarios(
    folder: Path,
    *,
    source: Path = SHIPPED,
    horizon_weeks: int = 3,
    replications: int = 100,
    only: Collection[str] | None = None,
) -> list[str]:
    """Write the scenarios of ``source`` (``only`` those ids, if given) into ``folder`` cut to
    ``horizon_weeks`` and ``replications``; their ids, in file order."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for original in scenario_files(source):
        scenario = yaml.safe_load(original.read_text())
        if only is not None and scenario["id"] not in only:
            continue
        scenario.update(horizon_weeks=horizon_weeks, replications=replications)
        (folder / original.name).write_text(yaml.safe_dump(scenario, sort_keys=False))
        ids.append(scenario["id"])
    return ids
