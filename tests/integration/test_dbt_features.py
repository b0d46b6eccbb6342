"""dbt build of the hourly failure-risk features over a tiny hand-made lake: the labels and the censoring
horizon hold the values worked out by hand, no feature peeks into the future (leakage test: the mart
built on a lake truncated at T agrees, for every row with as_of <= T, with the mart built on the full lake),
and the sensor columns are exactly the signals the plant declares, whatever their free-text names.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.config import FailureModelConfig
from ml.features import feature_columns
from tests.integration.conftest import TINY_PLANT, TinyLake
from tests.support.dbt import built_results, dbt_build
from twin.plant.model import parse_plant

pytestmark = pytest.mark.integration

T = dt.datetime
FIRST = T(2026, 3, 2)  # Monday, 00:00 UTC
DAYS = 10
LOADED = T(2026, 3, 20)
FAILURE_AT = T(2026, 3, 8, 10, 0)  # L1-M1, repaired until 12:00
CUT_AT = T(2026, 3, 7, 12, 30)  # the truncated lake ends here


def _minutes(first: dt.datetime, count: int) -> list[dt.datetime]:
    return [first + dt.timedelta(minutes=i) for i in range(count)]


def build_scenario(lake) -> None:
    """Ten days, one sample a minute. L1-M1 (power, temperature, MES states) fails at 03-08 10:00 with a
    temperature ramp in the 48 h before and a spike right after the cut; L1-M2 has historian + CMMS only."""
    rng = np.random.default_rng(7)
    times = _minutes(FIRST, DAYS * 1440)
    rows = []
    for i, ts in enumerate(times):
        working = 6 <= ts.hour < 22  # two shifts
        ramp = max(0.0, 1 - (FAILURE_AT - ts).total_seconds() / (48 * 3600))
        ramp = ramp if ts < FAILURE_AT else 0.0
        spike = 40.0 if CUT_AT < ts <= CUT_AT + dt.timedelta(minutes=20) else 0.0
        rows.append(
            {
                "tag": "L1-M1.temp",
                "ts": ts,
                "value": (60.0 if working else 30.0) + 25 * ramp + spike + rng.normal(0, 1),
                "quality": "BAD" if i % 97 == 0 else "GOOD",
            }
        )
        rows.append(
            {"tag": "L1-M1.power", "ts": ts, "value": (50.0 if working else 8.0) + rng.normal(0, 1)}
        )
        rows.append({"tag": "L1-M2.power", "ts": ts, "value": 20.0 + rng.normal(0, 0.5)})
    for row in rows:
        row.setdefault("quality", "GOOD")
    lake.write_batch("historian", "hist-1", rows, LOADED)

    states = []
    for d in range(DAYS):
        day = FIRST + dt.timedelta(days=d)
        states.append((day, day + dt.timedelta(hours=6), "IDLE"))
        states.append((day + dt.timedelta(hours=6), day + dt.timedelta(hours=22), "RUNNING"))
        states.append((day + dt.timedelta(hours=22), day + dt.timedelta(days=1), "IDLE"))
    lake.write_batch(
        "mes_states",
        "mes-1",
        [
            {"machine_id": "L1-M1", "state": s, "start_ts": a, "end_ts": b, "reason_code": None}
            for a, b, s in states
        ],
        LOADED,
    )

    def wo(wid, machine, kind, mode, start, end):
        return {
            "work_order_id": wid,
            "machine_id": machine,
            "type": kind,
            "failure_mode": mode,
            "reported_ts": start,
            "start_ts": start,
            "end_ts": end,
        }

    lake.write_batch(
        "cmms",
        "cmms-1",
        [
            wo("PM1", "L1-M1", "PREVENTIVE", None, T(2026, 3, 4, 8), T(2026, 3, 4, 9)),
            wo("F1", "L1-M1", "CORRECTIVE", "thermal_drift", FAILURE_AT, T(2026, 3, 8, 12)),
            wo("F2", "L1-M2", "CORRECTIVE", None, T(2026, 3, 3, 5, 30), T(2026, 3, 3, 7)),
        ],
        LOADED,
    )


def truncate_lake(source_home: Path, target_home: Path, cut_at: dt.datetime) -> None:
    """The lake as it stood at cut_at: samples after it dropped, MES intervals cut at it, work orders
    started after it dropped and repairs still running at it open (no end)."""
    shutil.copytree(source_home / "lake", target_home / "lake")
    (target_home / "warehouse").mkdir(parents=True)
    cut = f"timestamp '{cut_at:%Y-%m-%d %H:%M:%S}'"
    rules = {
        "historian": f"select * from t where ts <= {cut}",
        "mes_states": f"select * replace (least(end_ts, {cut}) as end_ts) from t where start_ts < {cut}",
        "cmms": (
            f"select * replace (case when end_ts <= {cut} then end_ts end as end_ts) "
            f"from t where start_ts <= {cut}"
        ),
        "mes_production": f"select * from t where end_ts <= {cut}",
    }
    with duckdb.connect() as con:
        for source, query in rules.items():
            for path in (target_home / "lake" / source).glob("*.parquet"):
                con.execute(
                    f"create or replace temp table t as select * from read_parquet('{path}')"
                )
                con.execute(f"copy ({query}) to '{path}' (format parquet)")


def run_dbt_build(home: Path, work: Path) -> None:
    """`dbt build --select +fct_machine_hourly_features` for TWIN_HOME=home, in a subprocess."""
    built_results(work, _dbt_build(home, work))


def _dbt_build(home: Path, work: Path):
    return dbt_build(work, "+fct_machine_hourly_features", home=home, timeout=120)


def _features(home: Path) -> pd.DataFrame:
    with duckdb.connect(str(home / "warehouse" / "twin.duckdb"), read_only=True) as con:
        return con.execute(
            "select * from marts.fct_machine_hourly_features order by machine_id, as_of"
        ).df()


@pytest.fixture(scope="module")
def _built() -> dict:
    return {}


@pytest.fixture
def marts(_built: dict, tiny_lake_factory, tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(full, truncated) feature marts. Built once per module (two dbt builds, ~15 s each); the lake
    lives in the tmp_path of the first test that asks."""
    if not _built:
        lake = tiny_lake_factory(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        build_scenario(lake)
        cut_home = tmp_path / "home_cut"
        truncate_lake(lake.home, cut_home, CUT_AT)
        run_dbt_build(lake.home, tmp_path / "full_run")
        run_dbt_build(cut_home, tmp_path / "cut_run")
        _built["marts"] = (_features(lake.home), _features(cut_home))
    return _built["marts"]


def _row(frame: pd.DataFrame, machine: str, as_of: dt.datetime) -> pd.Series:
    rows = frame[(frame["machine_id"] == machine) & (frame["as_of"] == pd.Timestamp(as_of))]
    assert len(rows) == 1, (machine, as_of, len(rows))
    return rows.iloc[0]


def test_labels_and_censoring_match_hand_computed_values(marts) -> None:
    full, _ = marts
    m1 = full[full["machine_id"] == "L1-M1"]
    # One row per hour from the first bucket (03-02 00:00, the sample stamped exactly at midnight)
    # to the bucket holding the last sample (03-11 23:59 -> as_of 03-12 00:00).
    assert m1["as_of"].min() == pd.Timestamp(FIRST)
    assert m1["as_of"].max() == pd.Timestamp(FIRST + dt.timedelta(days=DAYS))
    assert len(m1) == DAYS * 24 + 1
    assert not full.duplicated(["machine_id", "as_of"]).any()

    def check(as_of, **expected):
        row = _row(full, "L1-M1", as_of)
        for column, value in expected.items():
            got = row[column]
            if value is None:
                assert got is None or (isinstance(got, float) and math.isnan(got)), (
                    as_of,
                    column,
                    got,
                )
            elif isinstance(value, float):
                assert got == pytest.approx(value, abs=1e-6), (as_of, column, got)
            else:
                assert got == value, (as_of, column, got)

    # 72.5 h, exactly 72 h and 1 h before the failure (03-08 10:00), then the failure hour itself.
    check(T(2026, 3, 5, 9, 0), fails_within_72h=False, hours_to_next_failure=73.0)
    check(
        T(2026, 3, 5, 10, 0),
        fails_within_72h=True,
        hours_to_next_failure=72.0,
        next_failure_mode="thermal_drift",
        in_repair=False,
    )
    check(
        T(2026, 3, 8, 9, 0),
        fails_within_72h=True,
        hours_to_next_failure=1.0,
        in_repair=False,
        hours_since_failure=None,
        hours_since_maintenance=96.0,
    )
    check(
        T(2026, 3, 8, 10, 0),
        fails_within_72h=False,
        hours_to_next_failure=None,
        next_failure_mode=None,
        in_repair=True,
        hours_since_failure=0.0,
    )
    check(T(2026, 3, 8, 11, 0), in_repair=True, hours_since_maintenance=98.0)
    check(
        T(2026, 3, 8, 12, 0), in_repair=False, hours_since_maintenance=0.0, hours_since_failure=2.0
    )
    # Censoring: L1-M1's data ends with its last MES state (03-12 00:00); L1-M2 (historian only) with
    # its last sample, 03-11 23:59.
    check(T(2026, 3, 11, 0, 0), hours_observed_after=24.0)
    check(T(2026, 3, 12, 0, 0), hours_observed_after=0.0)
    assert _row(full, "L1-M2", T(2026, 3, 11, 0, 0))["hours_observed_after"] == pytest.approx(
        23 + 59 / 60
    )
    # MES: RUNNING 06-22 every day -> 16 h of the 24 ending at midnight; L1-M2 has no MES data.
    check(T(2026, 3, 4, 0, 0), running_hours_24h=16.0, running_share_24h=16 / 24)
    m2 = full[full["machine_id"] == "L1-M2"]
    assert m2["running_hours_24h"].isna().all()
    assert m2["running_share_24h"].isna().all()
    assert m2["power_mean_24h"].notna().all()
    assert m2["temperature_mean_1h"].isna().all()
    row = _row(full, "L1-M2", T(2026, 3, 3, 6, 0))
    assert bool(row["in_repair"])
    assert pd.isna(row["next_failure_mode"])
    assert _row(full, "L1-M2", T(2026, 3, 3, 5, 0))["next_failure_mode"] == "unknown"
    # The temperature ramp before the failure shows in the relative features.
    before = _row(full, "L1-M1", T(2026, 3, 8, 9, 0))
    assert before["temperature_level_ratio_24h"] > 1.2
    healthy = _row(full, "L1-M1", T(2026, 3, 5, 9, 0))
    assert healthy["temperature_level_ratio_24h"] == pytest.approx(1.0, abs=0.05)
    # The spike after the cut (+40 for 20 minutes) against the machine's usual hourly peaks: in the
    # 6 h and the 24 h window while it is recent, in the 24 h window only once 6 h have passed.
    assert healthy["temperature_peak_excess_6h"] == pytest.approx(1.0, abs=0.05)
    spike = _row(full, "L1-M1", T(2026, 3, 7, 13, 0))
    assert spike["temperature_peak_excess_6h"] > 1.5
    later = _row(full, "L1-M1", T(2026, 3, 7, 20, 0))
    assert later["temperature_peak_excess_24h"] > 1.5
    assert later["temperature_peak_excess_6h"] < 1.4


def test_no_feature_peeks_past_as_of(marts) -> None:
    """Every feature of every row with as_of <= T is the same whether the lake ends at T or goes on."""
    full, cut = marts
    cols = feature_columns(full, FailureModelConfig())
    # the tiny plant declares power and temperature: 2 x 10 signal statistics + load, quality, MES, history
    assert len(cols) > 25
    assert "fails_within_72h" not in cols
    assert "in_repair" not in cols
    keys = ["machine_id", "as_of"]
    cut = cut[cut["as_of"] <= pd.Timestamp(CUT_AT)]
    both = cut.merge(full, on=keys, suffixes=("_cut", "_full"), validate="one_to_one")
    assert len(both) == len(cut)
    assert len(both) > 2 * 5 * 24
    compared = 0
    for col in cols:
        a = both[f"{col}_cut"].astype(float).to_numpy()
        b = both[f"{col}_full"].astype(float).to_numpy()
        # Same nulls, same values; the tolerance only absorbs float summation order (parallel sums).
        same = np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
        bad = both.loc[~same, keys]
        assert same.all(), f"{col} differs at {bad.head().to_dict('records')}"
        compared += int(np.isfinite(a).sum())
    assert compared > 3_000


SIGNAL_STATISTICS = (
    "mean_1h", "mean_6h", "mean_24h", "stddev_6h", "stddev_24h", "slope_24h", "slope_72h",
    "level_ratio_24h", "level_zscore_24h", "peak_ratio_24h", "peak_excess_6h", "peak_excess_24h",
)  # fmt: skip


def _plant_with_tags(tags_by_machine: dict[str, list[tuple[str, str, str]]]) -> dict:
    """TINY_PLANT with each machine's tags replaced by (tag, signal, unit) at one sample a minute."""
    plant = copy.deepcopy(TINY_PLANT)
    for machine in plant["lines"][0]["machines"]:
        machine["tags"] = [
            {"tag": tag, "signal": signal, "unit": unit, "period_s": 60, "min": -1e6, "max": 1e6}
            for tag, signal, unit in tags_by_machine[machine["id"]]
        ]
    return plant


def test_columns_follow_the_signals_the_plant_declares(tmp_path: Path) -> None:
    """A plant whose precursor signals are outside the old fixed list (acoustic on L1-M1, the free-text
    "Motor Current" plus power on L1-M2) gets exactly their columns, under safe names, sorted."""
    plant = _plant_with_tags(
        {
            "L1-M1": [("L1-M1.mic", "acoustic", "dB")],
            "L1-M2": [("L1-M2.current", "Motor Current", "A"), ("L1-M2.power", "power", "kW")],
        }
    )
    lake = TinyLake(
        tmp_path / "home", parse_plant(plant, source="test"), FIRST.date(), LOADED.date()
    )
    rng = np.random.default_rng(3)
    rows = []
    for ts in _minutes(FIRST, 3 * 1440):
        rows.append({"tag": "L1-M1.mic", "ts": ts, "value": 70.0 + rng.normal(0, 1)})
        rows.append({"tag": "L1-M2.current", "ts": ts, "value": 12.0 + rng.normal(0, 0.1)})
        rows.append({"tag": "L1-M2.power", "ts": ts, "value": 20.0 + rng.normal(0, 0.5)})
    for row in rows:
        row["quality"] = "GOOD"
    lake.write_batch("historian", "hist-1", rows, LOADED)
    run_dbt_build(lake.home, tmp_path / "run")
    full = _features(lake.home)

    signal_columns = [c for c in full.columns if c.endswith(SIGNAL_STATISTICS)]
    assert signal_columns == [
        f"{name}_{statistic}"
        for name in ("acoustic", "motor_current", "power")
        for statistic in SIGNAL_STATISTICS
    ]
    for old in ("temperature", "vibration", "torque", "pressure", "speed"):
        assert not [c for c in full.columns if c.startswith(f"{old}_")], old
    m1 = full[full["machine_id"] == "L1-M1"]
    m2 = full[full["machine_id"] == "L1-M2"]
    assert len(m1) > 48
    assert len(m2) > 48
    assert m1["acoustic_mean_1h"].notna().all()
    assert m1["acoustic_mean_24h"].mean() == pytest.approx(70.0, abs=0.5)
    assert m2["acoustic_mean_1h"].isna().all()
    assert m2["motor_current_mean_1h"].notna().all()
    assert m2["motor_current_mean_24h"].mean() == pytest.approx(12.0, abs=0.1)
    assert m1["motor_current_mean_1h"].isna().all()
    assert m1["power_mean_1h"].isna().all()
    # load stays the signal `power`
    assert m2["load_kw_24h"].mean() == pytest.approx(20.0, abs=0.5)
    assert m1["load_kw_24h"].isna().all()
    cols = feature_columns(full, FailureModelConfig())
    assert {"acoustic_mean_1h", "acoustic_level_ratio_24h", "motor_current_mean_1h"} <= set(cols)
    assert {"motor_current_slope_72h", "power_peak_ratio_24h", "load_kw_24h"} <= set(cols)


def test_two_signals_with_the_same_column_name_stop_the_build(tmp_path: Path) -> None:
    plant = _plant_with_tags(
        {
            "L1-M1": [("L1-M1.current", "Motor Current", "A")],
            "L1-M2": [("L1-M2.current", "motor-current", "A")],
        }
    )
    lake = TinyLake(
        tmp_path / "home", parse_plant(plant, source="test"), FIRST.date(), LOADED.date()
    )
    lake.write_batch(
        "historian",
        "hist-1",
        [{"tag": "L1-M1.current", "ts": FIRST, "value": 1.0, "quality": "GOOD"}],
        LOADED,
    )
    proc = _dbt_build(lake.home, tmp_path / "run")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "both give the feature column name 'motor_current'" in out, out[-3000:]
