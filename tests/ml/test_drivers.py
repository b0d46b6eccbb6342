"""Why at risk (issue 11 item 3): the drivers of a machine whose vibration rises are vibration features,
for the trained model and for the fallback, in the table `machine_failure_risk` is published from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import pipeline, train
from ml.config import FailureModelConfig
from ml.drivers import healthy_baseline, signal_of
from ml.fallback import reliability_fallback

# The synthetic plant's signal "a" degrades before wear failures, "b" before overheating.
NAMES = {"a_": "vibration_", "b_": "temperature_", "load_": "spindle_load_"}
MACHINE = "M01"  # healthy at the end of the history (seed 1)
DEGRADING = "M03"  # its own wear ramp (signal "a") is under way at the end of the history


def _renamed(frame: pd.DataFrame) -> pd.DataFrame:
    def rename(column: str) -> str:
        for old, new in NAMES.items():
            if column.startswith(old):
                return new + column[len(old) :]
        return column

    return frame.rename(columns=rename)


def _vibration_rises(frame: pd.DataFrame, machine: str, hours: int = 60) -> pd.DataFrame:
    """The machine's last ``hours`` rows get a quadratic vibration ramp, as before a bearing failure."""
    out = frame.copy()
    rows = out.index[out["machine_id"] == machine][-hours:]
    ramp = 3.0 * np.linspace(0, 1, hours) ** 2
    out.loc[rows, "vibration_mean_12h"] += ramp
    out.loc[rows, "vibration_slope_24h"] += ramp - np.concatenate([np.zeros(24), ramp[:-24]])
    return out


@pytest.fixture(scope="module")
def plant(frame_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history as it is, the same history with MACHINE's vibration rising at the end)."""
    frame, _ = frame_factory(n_machines=6, days=90, seed=1)
    frame = _renamed(frame)
    return frame, _vibration_rises(frame, MACHINE)


@pytest.fixture(scope="module")
def model(plant):
    outcome = train.fit(FailureModelConfig(), plant[0])
    assert not outcome.is_fallback, outcome.notes
    return outcome.model


def _table(frame: pd.DataFrame, model) -> pd.DataFrame:
    table = pipeline.score_latest(frame, model, site_id="S", model_version="v")
    assert list(table.columns) == pipeline.RISK_TABLE_COLUMNS
    return table.set_index("machine_id")


def test_a_machine_whose_vibration_rises_is_at_risk_because_of_vibration(plant, model) -> None:
    calm, rising = (_table(f, model) for f in plant)
    # Control: before the rise, this machine's score is not explained by vibration.
    assert not str(calm.loc[MACHINE, "driver_1"]).startswith("vibration_")
    row = rising.loc[MACHINE]
    assert row["p_failure_72h"] > calm.loc[MACHINE, "p_failure_72h"]
    assert row["driver_1"].startswith("vibration_")
    assert row["risk_drivers"].startswith("vibration_")
    assert "σ (Δp +" in row["risk_drivers"]  # the model's own score moved with it
    # A wear ramp the generator itself put there is explained the same way.
    assert calm.loc[DEGRADING, "driver_1"].startswith("vibration_")
    # The other machines' drivers do not change: the baseline is each machine's own.
    others = calm.index.drop(MACHINE)
    assert rising.loc[others, "risk_drivers"].equals(calm.loc[others, "risk_drivers"])


def test_the_fallback_names_the_age_first_and_then_the_rising_vibration(plant) -> None:
    calm, rising = plant
    fb = reliability_fallback(rising, "no champion model yet")
    row = _table(rising, fb).loc[MACHINE]
    assert row["driver_1"] == "age_since_renewal_h"
    assert row["driver_2"].startswith("vibration_")
    assert "vibration_" not in _table(calm, fb).loc[MACHINE, "risk_drivers"]


def test_the_healthy_baseline_is_robust_to_a_spike_and_leaves_out_pre_failure_hours(plant) -> None:
    frame = plant[0]
    features = ["vibration_mean_12h"]
    center, scale = healthy_baseline(frame, features)
    spiked = frame.copy()
    spiked.loc[spiked.index[spiked["machine_id"] == MACHINE][100], "vibration_mean_12h"] = 1e6
    center_s, scale_s = healthy_baseline(spiked, features)
    assert center_s.loc[MACHINE].iloc[0] == pytest.approx(center.loc[MACHINE].iloc[0], rel=1e-3)
    assert scale_s.loc[MACHINE].iloc[0] == pytest.approx(scale.loc[MACHINE].iloc[0], rel=0.01)
    # Rows in the 72 h before a failure carry the degradation: a baseline with them would be higher.
    healthy = frame[(frame["machine_id"] == MACHINE) & (frame["fails_within_72h"] == 0)]
    assert center.loc[MACHINE].iloc[0] == pytest.approx(
        healthy.loc[healthy["hours_observed_after"] >= 72, "vibration_mean_12h"].median()
    )


@pytest.mark.parametrize(
    ("feature", "signal"),
    [
        ("vibration_mean_24h", "vibration"),
        ("spindle_temp_level_zscore_24h", "spindle_temp"),
        ("motor_current_peak_ratio_24h", "motor_current"),
        ("hours_since_maintenance", None),
        ("load_kw_24h", None),
    ],
)
def test_features_group_by_the_signal_they_are_computed_from(feature, signal) -> None:
    assert signal_of(feature) == signal
