"""Plant models that share no id with the demo plant, to check that scenarios fit any plant.

``FOREIGN``: one line ``P1`` with one machine and one power tag, the smallest plant a user writes.
``TWO_LINES``: lines ``K1`` and ``K2`` whose bottleneck is worked out by hand: a machine's ideal
time per part is the mean over the products every machine of its line makes, the line's is that of
its slowest station.

* K1: K1-A (Q1 50 s, Q2 10 s) -> 30 s; K1-B (20 s, 20 s) -> 20 s; slowest station 30 s
* K2: K2-A (35 s, 35 s) -> 35 s
So K2 is the bottleneck line, although K1-A has the single longest cycle time (50 s for Q1).
"""

from pathlib import Path

import yaml

from twin.plant.model import parse_plant

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CALENDAR = {"shifts": [{"name": "day", "start": "07:00", "end": "15:00", "days": WEEKDAYS}]}


def _machine(machine_id: str, cycle_times: dict[str, float]) -> dict:
    return {"id": machine_id, "type": "press", "ideal_cycle_time_s": cycle_times}


FOREIGN_RAW = {
    "site": {"id": "FOREIGN", "name": "a user's own plant", "timezone": "Europe/Vienna"},
    "calendar": CALENDAR,
    "products": [{"id": "W1", "family": "widgets"}],
    "lines": [
        {
            "id": "P1",
            "buffer_capacity": 0,
            "machines": [
                {
                    **_machine("P1-PRESS", {"W1": 20.0}),
                    "planned_maintenance": [{"every_days": 14, "duration_h": 2}],
                    "tags": [
                        {
                            "tag": "P1-PRESS.power",
                            "signal": "power",
                            "unit": "kW",
                            "period_s": 30,
                            "min": 0,
                            "max": 50,
                        }
                    ],
                }
            ],
        }
    ],
}
TWO_LINES_RAW = {
    "site": {"id": "TWO", "name": "two lines", "timezone": "Europe/Vienna"},
    "calendar": CALENDAR,
    "products": [{"id": "Q1", "family": "f"}, {"id": "Q2", "family": "f"}],
    "lines": [
        {
            "id": "K1",
            "buffer_capacity": 4,
            "machines": [
                _machine("K1-A", {"Q1": 50.0, "Q2": 10.0}),
                _machine("K1-B", {"Q1": 20.0, "Q2": 20.0}),
            ],
        },
        {
            "id": "K2",
            "buffer_capacity": 4,
            "machines": [_machine("K2-A", {"Q1": 35.0, "Q2": 35.0})],
        },
    ],
}
FOREIGN = parse_plant(FOREIGN_RAW)
TWO_LINES = parse_plant(TWO_LINES_RAW)
TWO_LINES_BOTTLENECK = "K2"


def write_plant(folder: Path, raw: dict = FOREIGN_RAW, name: str = "plant.yaml") -> Path:
    """Write a plant model file into ``folder`` (created) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path
