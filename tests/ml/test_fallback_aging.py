"""The fallback ages: without a champion, risk comes from a life distribution in the age since renewal.

Regression (issue 11 item 4): the old per-machine constant hazard, shrunk to the fleet, gave a machine
that had run long without failing a *lower* risk, so on wear-out data (C-MAPSS) it ranked the engines
closest to failure as the safest.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.fallback import MIN_FAILURES_WEIBULL, fit_weibull, reliability_fallback
from orchestration.defs.ml.assets import machine_failure_risk_scores
from orchestration.lib.resources import ModelRegistry, TwinHome
from twin.paths import DEMO_PLANT, TwinPaths
from twin.plant.model import load_plant

START = pd.Timestamp("2026-06-01 00:00")
HOURS = 60 * 24
REPAIR_H = 4
SHAPE, SCALE_H = 3.0, 300.0  # wear-out: median life 265 h


def _hours(machine: str, failures: list[int], rng: np.random.Generator) -> pd.DataFrame:
    """Hourly rows shaped like marts.fct_machine_hourly_features for one machine's failure times."""
    t = np.arange(HOURS)
    f = np.asarray([*sorted(failures), np.inf])  # the sentinel: no failure after the last one
    last_end = np.full(HOURS, np.nan)  # hours_since_maintenance is null before the first work order
    in_repair = np.zeros(HOURS, dtype=bool)
    for start in failures:
        in_repair[start : start + REPAIR_H] = True
        last_end[start + REPAIR_H :] = start + REPAIR_H
    nxt = np.searchsorted(f, t, side="right")
    to_next = np.where(np.isfinite(f[nxt]), f[nxt] - t, np.nan)
    return pd.DataFrame(
        {
            "site_id": "PLANT1",
            "machine_id": machine,
            "as_of": START + pd.to_timedelta(t, unit="h"),
            "vibration_mean_24h": rng.normal(2.0, 0.1, HOURS),
            "hours_since_maintenance": t - last_end,
            "fails_within_72h": to_next <= 72,
            "next_failure_mode": np.where(np.isnan(to_next), None, "bearing_wear"),
            "hours_to_next_failure": to_next,
            "hours_observed_after": (HOURS - 1 - t).astype(float),
            "in_repair": in_repair,
        }
    )


def _wear_out_life(rng: np.random.Generator, until: int) -> list[int]:
    out, t = [], 0
    while True:
        t += int(SCALE_H * rng.weibull(SHAPE)) + 1
        if t >= until:
            return out
        out.append(t)
        t += REPAIR_H


def wear_out_fleet(seed: int = 7) -> pd.DataFrame:
    """The demo plant's 18 machines on Weibull(3, 300 h) lives; L1-M01 last renewed 450 h before the
    end (1.7x the median life), L1-M02 repaired 6 h before the end."""
    rng = np.random.default_rng(seed)
    machines = [m.id for m in load_plant(DEMO_PLANT).machines]
    frames = []
    for machine in machines:
        if machine == "L1-M01":
            failures = [*_wear_out_life(rng, HOURS - 700), HOURS - 450 - REPAIR_H]
        elif machine == "L1-M02":
            failures = [*_wear_out_life(rng, HOURS - 300), HOURS - 6 - REPAIR_H]
        else:
            failures = _wear_out_life(rng, HOURS)
        frames.append(_hours(machine, failures, rng))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def twin_without_champion(tmp_path) -> tuple[TwinHome, ModelRegistry]:
    paths = TwinPaths(tmp_path / "home").ensure()
    with duckdb.connect(str(paths.warehouse)) as connection:
        connection.execute("create schema marts")
        connection.register("frame", wear_out_fleet())
        connection.execute("create table marts.fct_machine_hourly_features as select * from frame")
    registry = ModelRegistry(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "art")
    )
    return TwinHome(home=str(paths.home), plant_file=str(DEMO_PLANT)), registry


def test_without_a_champion_a_machine_past_its_typical_life_is_riskier_than_one_just_repaired(
    twin_without_champion,
) -> None:
    twin, registry = twin_without_champion
    assert registry.registry().champion_version() is None
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [machine_failure_risk_scores],
            resources={"twin": twin, "model_registry": registry},
            instance=instance,
        )
    assert result.success
    scores = pd.read_parquet(twin.paths.lake / "ml" / "machine_failure_risk.parquet")
    by = scores.set_index("machine_id")
    old, new = by.loc["L1-M01"], by.loc["L1-M02"]
    # Weibull(3, 300 h): 72 h at age 450 h carry ~ 1 - exp(-(522^3 - 450^3) / 300^3) = 0.9 of risk,
    # at age 6 h ~ 0.015; a constant hazard would give both the same.
    assert old["p_failure_72h"] > 0.5 > 0.1 > new["p_failure_72h"]
    assert old["hours_to_failure_p50"] < new["hours_to_failure_p50"]
    # The machine just repaired ranks at the bottom: no machine in the fleet is younger.
    assert scores["machine_id"].iloc[-1] == "L1-M02"
    assert scores["model_version"].str.startswith("fallback:weibull_age(fleet shape").all()
    assert "no champion model yet" in old["model_version"]
    assert old["risk_drivers"].startswith("age 449 h since renewal")  # last row H-1
    assert old["driver_1"] == "age_since_renewal_h"
    (materialization,) = result.asset_materializations_for_node("ml__machine_failure_risk_scores")
    assert "L1-M01" in materialization.metadata["risk_drivers"].value


def test_censored_lives_count_when_the_shape_is_fitted() -> None:
    rng = np.random.default_rng(3)
    life = SCALE_H * rng.weibull(SHAPE, 600)
    seen_until = rng.uniform(100, 500, 600)  # renewed by a PM or still running at the data end
    failed = life <= seen_until
    fit = fit_weibull(np.minimum(life, seen_until), failed)
    assert fit.shape == pytest.approx(SHAPE, rel=0.12)
    assert fit.scale_h == pytest.approx(SCALE_H, rel=0.06)
    # Dropping the censored (longest-running) lives would make the fleet look short-lived.
    naive = fit_weibull(life[failed], np.ones(failed.sum(), dtype=bool))
    assert naive.scale_h < 0.9 * fit.scale_h


def test_a_type_gets_its_own_life_only_when_its_history_says_it_differs() -> None:
    rng = np.random.default_rng(5)
    machines = [f"M{i}" for i in range(8)]
    fast = {"M0", "M1", "M2", "M3"}
    frames = []
    for machine in machines:
        scale = 80.0 if machine in fast else SCALE_H
        failures, t = [], 0
        while (t := t + int(scale * rng.weibull(SHAPE)) + 1) < HOURS:
            failures.append(t)
            t += REPAIR_H
        frames.append(_hours(machine, failures, rng))
    frame = pd.concat(frames, ignore_index=True)
    typed = {m: "small_press" if m in fast else "big_press" for m in machines}
    fb = reliability_fallback(frame, "test", machine_types=typed)
    assert fb.life_of("M0").scale_h == pytest.approx(80, rel=0.15)
    assert fb.life_of("M5").scale_h == pytest.approx(SCALE_H, rel=0.15)
    assert "own life for" in fb.reason
    # The same lives under one type name for all: no type differs, the fleet's life is used.
    same = reliability_fallback(
        frame[~frame["machine_id"].isin(fast)], "test", machine_types={m: "press" for m in machines}
    )
    assert set(same.lives) == {"fleet"}
    assert "fits better than the fleet's" in same.reason


def test_with_too_few_failures_the_fallback_says_it_cannot_fit_a_shape() -> None:
    rng = np.random.default_rng(1)
    frame = pd.concat([_hours("M0", [300], rng), _hours("M1", [], rng)], ignore_index=True)
    fb = reliability_fallback(frame, "no champion model yet")
    assert fb.lives["fleet"].failures < MIN_FAILURES_WEIBULL
    assert fb.model_version.startswith("fallback:exponential_pooled(")
    assert "too few to fit a wear-out shape" in fb.model_version
    risk = fb.predict_risk(frame)
    assert risk["p_failure_72h"].notna().all()
    assert risk["p_failure_72h"].between(0, 1).all()


def test_without_cmms_age_the_age_counts_from_the_first_observation() -> None:
    # Run-to-failure data (C-MAPSS): no work orders before the failure, so hours_since_maintenance
    # is null; each unit starts new when it is first observed, and the longest-running unit of
    # those still running is the riskiest.
    rng = np.random.default_rng(2)
    frames = []
    for i in range(30):
        life = int(SCALE_H * rng.weibull(SHAPE)) + 1
        failed = i < 20  # training units run to failure, test units are cut short
        rows = _hours(f"E{i}", [life] if failed else [], rng).iloc[: life if failed else life // 2]
        frames.append(rows.drop(columns=["hours_since_maintenance"]))
    frame = pd.concat(frames, ignore_index=True)
    fb = reliability_fallback(frame, "test")
    assert fb.lives["fleet"].shape > 2  # the wear-out is found from the lives alone
    latest = frame[frame["machine_id"].isin([f"E{i}" for i in range(20, 30)])]
    latest = latest.sort_values("as_of").groupby("machine_id").tail(1)
    risk = fb.predict_risk(latest).set_index("machine_id")["p_failure_72h"]
    cycles = latest.set_index("machine_id")["as_of"].sub(START).dt.total_seconds()
    assert risk.rank().corr(cycles.rank()) == pytest.approx(1.0)
    # ...and the drivers say the age counts from the first data, not from a recorded renewal.
    assert not fb.age_context(latest)["renewed"].any()
