"""The own-idle calibration belongs to the history, not to a scenario: every scenario of a batch
gets the same, and with a cache folder the engine calibrates once per history (the scenario runs of
a batch are separate processes; the first one's calibration is read by the others)."""

import datetime as dt

import pandas as pd
import pytest

from twin.plant.model import parse_plant
from twin.simulation import idle_calibration
from twin.simulation.line_params import build_line_params
from twin.simulation.scenarios import Scenario, parse_scenario

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CYCLE_S = {"M1": 30.0, "M2": 40.0, "M3": 25.0}  # M2 paces the line: M3 waits on it
PLANT = parse_plant(
    {
        "site": {"id": "S", "name": "three in a row", "timezone": "Europe/Berlin"},
        "calendar": {"shifts": [{"name": "a", "start": "06:00", "end": "14:00", "days": WEEKDAYS}]},
        "products": [{"id": "W", "family": "f"}],
        "lines": [
            {
                "id": "L",
                "buffer_capacity": 4,
                "machines": [
                    {"id": m, "type": "t", "ideal_cycle_time_s": {"W": ct}}
                    for m, ct in CYCLE_S.items()
                ],
            }
        ],
    }
)
START = dt.datetime(2026, 6, 28, 22)  # Monday 2026-06-29 00:00 Berlin
BASE = Scenario(id="baseline", horizon_weeks=3, replications=10)
EXTRA = parse_scenario(
    {
        "id": "extra_shift",
        "horizon_weeks": 6,
        "replications": 10,
        "changes": [
            {"type": "extra_shift", "name": "sat", "start": "06:00", "end": "14:00",
             "days": ["sat"], "lines": "all"}
        ],
    },
    PLANT,
)  # fmt: skip


def _kpis(idle_h: float = 1.5) -> pd.DataFrame:
    """Four weeks of weekdays: 6 h running and ``idle_h`` idle of 8 planned hours per machine
    (the two faster machines idle while the constraint paces them)."""
    days = [dt.date(2026, 6, 29) - dt.timedelta(days=i) for i in range(1, 29)]
    rows = [
        {
            "machine_id": m,
            "date": d,
            "production_hours": 6.0,
            "planned_busy_hours": 8.0,
            "idle_hours": idle_h if m != "M2" else 0.5,
            "performance": 0.9,
            "scrap_rate": 0.0,
        }
        for d in days
        if d.weekday() < 5
        for m in CYCLE_S
    ]
    return pd.DataFrame(rows)


def _speeds(scenario: Scenario, **kwargs) -> dict[str, float]:
    line = build_line_params(
        PLANT, _kpis(kwargs.pop("idle_h", 1.5)), None, None, scenario, START, **kwargs
    )["L"]
    return {m.id: m.performance for m in line.machines}


class EngineRuns:
    """Counts the calibration's runs of the engine (the real engine runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = idle_calibration.simulate_many

        def counted(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(idle_calibration, "simulate_many", counted)


def test_every_scenario_of_a_history_gets_the_same_own_idle() -> None:
    baseline, extra = _speeds(BASE), _speeds(EXTRA)
    assert baseline == extra
    # the calibration did move the waiting machines off their observed idle
    observed = 1 - 1.5 / 7.5
    assert baseline["M3"] > 0.9 * observed + 1e-6


def test_with_a_cache_the_engine_calibrates_once_per_history(tmp_path, monkeypatch) -> None:
    uncached = _speeds(BASE)
    runs = EngineRuns(monkeypatch)
    cache = tmp_path / "calibrations"
    first = _speeds(BASE, calibration_cache=cache)
    assert runs.count == idle_calibration.ROUNDS
    assert len(list(cache.iterdir())) == 1
    second = _speeds(EXTRA, calibration_cache=cache)
    assert runs.count == idle_calibration.ROUNDS  # read, not computed
    assert first == second == uncached
    # another history is another calibration
    _speeds(BASE, calibration_cache=cache, idle_h=1.0)
    assert runs.count == 2 * idle_calibration.ROUNDS
    assert len(list(cache.iterdir())) == 2
