"""A two-line plant small enough to reason about by hand (line A: two machines, line B: one)."""

import datetime as dt

from twin.plant.model import parse_plant
from twin.simulation.scenarios import Scenario, parse_scenario

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
RAW = {
    "site": {"id": "S1", "name": "test", "timezone": "Europe/Berlin"},
    "calendar": {
        "shifts": [{"name": "early", "start": "06:00", "end": "14:00", "days": WEEKDAYS}],
        "holidays": ["2026-07-03"],  # Friday of week 1
    },
    "products": [{"id": "P1", "family": "f"}, {"id": "P2", "family": "f"}],
    "lines": [
        {
            "id": "A",
            "buffer_capacity": 10,
            "machines": [
                {
                    "id": "A1",
                    "type": "mill",
                    "ideal_cycle_time_s": {"P1": 36.0, "P2": 48.0},
                    "changeover_min": 30,
                    "planned_maintenance": [{"every_days": 7, "duration_h": 2}],
                },
                {
                    "id": "A2",
                    "type": "lathe",
                    "ideal_cycle_time_s": {"P1": 60.0, "P2": 60.0},
                    "planned_maintenance": [{"every_days": 14, "duration_h": 3}],
                },
            ],
        },
        {
            "id": "B",
            "buffer_capacity": 5,
            "machines": [{"id": "B1", "type": "press", "ideal_cycle_time_s": {"P2": 30.0}}],
        },
    ],
}
PLANT = parse_plant(RAW)
START = dt.datetime(2026, 6, 28, 22)  # Monday 2026-06-29 00:00 in Berlin (UTC+2)
BASE = Scenario(id="baseline", horizon_weeks=3, replications=10)


def scenario(*changes: dict, weeks: int = 3) -> Scenario:
    raw = {"id": "s", "horizon_weeks": weeks, "replications": 10, "changes": list(changes)}
    return parse_scenario(raw, PLANT)
