"""Fixtures for the failure-risk model: a seeded synthetic hourly feature frame and a tracking store.

The synthetic plant: machines with hourly rows; before most failures one of two signals degrades over
100-160 h (quadratically, so the last days are the clearest); about 20 % of failures are sudden, with no
precursor; each failure is followed by an 8 h repair. Features are trailing (causal) unless a test asks
for a leak.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from ml.config import FailureModelConfig

START = pd.Timestamp("2026-01-05 00:00")
REPAIR_H = 8
MODES = ("wear", "overheat")


def _failures(rng: np.random.Generator, hours: int, sudden_share: float) -> list[tuple]:
    out, t = [], int(rng.integers(150, 400))
    while t < hours:
        sudden = bool(rng.random() < sudden_share)
        out.append((t, str(rng.choice(MODES)), sudden, int(rng.integers(100, 161))))
        t += REPAIR_H + int(rng.integers(220, 520))
    return out


def _machine(
    rng: np.random.Generator,
    machine: str,
    hours: int,
    sudden_share: float,
    raw_until: int | None,
    centered: bool,
) -> tuple[pd.DataFrame, list[dict]]:
    t = np.arange(hours)
    wear, heat = np.zeros(hours), np.zeros(hours)
    in_repair = np.zeros(hours, dtype=bool)
    failures = _failures(rng, hours, sudden_share)
    for f_t, mode, sudden, dur in failures:
        in_repair[f_t : f_t + REPAIR_H] = True
        if not sudden:
            lo = max(f_t - dur, 0)
            h = ((t[lo:f_t] - (f_t - dur)) / dur) ** 2
            (wear if mode == "wear" else heat)[lo:f_t] = h
    raw = pd.DataFrame(
        {
            "a": 1.0 + 2.5 * wear + rng.normal(0, 0.25, hours),
            "b": 50.0 + 12.0 * heat + rng.normal(0, 1.5, hours),
            "load": np.clip(0.7 + 0.1 * rng.standard_normal(hours), 0, 1),
        }
    )
    if raw_until is not None:
        raw = raw.iloc[:raw_until]
    roll = {"window": 12, "min_periods": 1, "center": centered}
    frame = pd.DataFrame(
        {
            "machine_id": machine,
            "as_of": START + pd.to_timedelta(t[: len(raw)], unit="h"),
            "a_mean_12h": raw["a"].rolling(**roll).mean(),
            "b_mean_12h": raw["b"].rolling(**roll).mean(),
            "load_mean_12h": raw["load"].rolling(**roll).mean(),
        }
    )
    frame["a_slope_24h"] = (frame["a_mean_12h"] - frame["a_mean_12h"].shift(24)).fillna(0.0)
    frame["b_slope_24h"] = (frame["b_mean_12h"] - frame["b_mean_12h"].shift(24)).fillna(0.0)
    last_repair_end = np.full(hours, -1_000.0)
    for f_t, *_ in failures:
        last_repair_end[f_t + REPAIR_H :] = f_t + REPAIR_H
    n = len(frame)
    frame["hours_since_repair"] = np.minimum(t[:n] - last_repair_end[:n], 1_000.0)
    frame["running_hours"] = t[:n].astype(float)
    # Labels: the next failure strictly after as_of.
    f_times = np.array([f[0] for f in failures] or [np.inf])
    idx = np.searchsorted(f_times, t[:n], side="right")
    has_next = idx < len(failures)
    next_t = np.where(has_next, f_times[np.minimum(idx, len(f_times) - 1)], np.nan)
    htf = next_t - t[:n]
    frame["hours_to_next_failure"] = htf
    frame["fails_within_72h"] = (htf <= 72).astype(int)
    modes = np.array([f[1] for f in failures] or [None], dtype=object)
    frame["next_failure_mode"] = np.where(has_next, modes[np.minimum(idx, len(modes) - 1)], None)
    frame["hours_observed_after"] = float(hours - 1) - t[:n]
    frame["in_repair"] = in_repair[:n]
    events = [
        {
            "machine_id": machine,
            "failure_start": START + pd.Timedelta(hours=f_t),
            "failure_mode": mode,
            "had_precursor": not sudden,
        }
        for f_t, mode, sudden, _ in failures
    ]
    return frame, events


def make_hourly_frame(
    seed: int = 7,
    n_machines: int = 10,
    days: int = 120,
    sudden_share: float = 0.2,
    raw_until_h: int | None = None,
    centered: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(feature frame, failure events). ``raw_until_h`` truncates the raw signals (for causality tests);
    ``centered`` uses centred rolling windows, i.e. features that peek 6 h into the future."""
    rng = np.random.default_rng(seed)
    frames, events = [], []
    for i in range(n_machines):
        f, e = _machine(rng, f"M{i + 1:02d}", days * 24, sudden_share, raw_until_h, centered)
        frames.append(f)
        events.extend(e)
    return pd.concat(frames, ignore_index=True), pd.DataFrame(events)


@pytest.fixture(scope="session")
def frame_factory() -> Callable[..., tuple[pd.DataFrame, pd.DataFrame]]:
    return make_hourly_frame


@pytest.fixture(scope="session")
def synthetic() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_hourly_frame()


@pytest.fixture(scope="session")
def config() -> FailureModelConfig:
    return FailureModelConfig()


@pytest.fixture(scope="session")
def trained(synthetic, config):
    """One training on the synthetic plant, shared by every test that only reads it."""
    from ml import train

    return train.fit(config, synthetic[0])


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory) -> str:
    """A temporary SQLite tracking store, created (and migrated, ~5 s) once per session."""
    from mlflow import MlflowClient

    db = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    uri = f"sqlite:///{db}"
    MlflowClient(tracking_uri=uri).search_experiments()  # runs the migrations now, once
    return uri
