"""The C-MAPSS FD001 adapter: plant model, landing files in the contract shape, failures, alignment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from bench import cmapss_plant
from twin.plant.model import load_plant

pytestmark = pytest.mark.skipif(
    not (cmapss_plant.DATASET_DIR / "train_FD001.txt.gz").exists(),
    reason="shared C-MAPSS data missing",
)

N_TRAIN, N_TEST = 5, 5
LAYOUT = cmapss_plant.Layout()


@pytest.fixture(scope="module")
def data() -> cmapss_plant.Fd001:
    return cmapss_plant.read_fd001(n_train=N_TRAIN, n_test=N_TEST)


@pytest.fixture(scope="module")
def converted(tmp_path_factory, data) -> cmapss_plant.Conversion:
    return cmapss_plant.convert(tmp_path_factory.mktemp("cmapss"), data=data, layout=LAYOUT)


@pytest.fixture(scope="module")
def historian(converted) -> pd.DataFrame:
    files = sorted((converted.landing / "historian").glob("*.parquet"))
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)


@pytest.fixture(scope="module")
def orders(converted) -> pd.DataFrame:
    return pd.read_csv(converted.landing / "cmms" / "cmapss_fd001_work_orders.csv")


def test_subset_is_read(data):
    assert data.train["unit"].nunique() == N_TRAIN
    assert data.test["unit"].nunique() == N_TEST
    assert list(data.rul.index) == list(range(1, N_TEST + 1))


def test_plant_model_loads_strictly(converted):
    plant = load_plant(converted.plant_path)
    assert len(plant.machines) == N_TRAIN + N_TEST
    shift = plant.calendar.shifts[0]
    assert shift.hours() == 24
    assert len(shift.days) == 7
    tags = [t for _, t in plant.iter_tags()]
    assert len(tags) == (N_TRAIN + N_TEST) * (
        len(cmapss_plant.SENSORS) + len(cmapss_plant.SETTINGS)
    )
    assert {t.period_s for t in tags} == {3600}
    # every feature signal the adapter asks the mart for is carried by a tag
    assert set(cmapss_plant.FEATURE_SIGNALS) <= {t.signal for t in tags}


def test_constant_sensors_are_dropped(converted):
    tag_suffixes = {t.tag.split(".", 1)[1] for _, t in load_plant(converted.plant_path).iter_tags()}
    assert not tag_suffixes & set(cmapss_plant.DROPPED_SENSORS.values())
    kept = {col for col, *_ in cmapss_plant.SENSORS}
    assert kept.isdisjoint(cmapss_plant.DROPPED_SENSORS)
    assert len(kept) + len(cmapss_plant.DROPPED_SENSORS) == 21


def test_historian_files_follow_the_landing_contract(converted, historian):
    files = sorted((converted.landing / "historian").glob("*.parquet"))
    assert len(files) == converted.historian_files
    for f in files:  # files of one UTC day, named after it
        day = pq.read_table(f, columns=["ts"]).to_pandas()["ts"].dt.date.unique()
        assert [d.isoformat() for d in day] == [f.stem.split("_")[2]]
    assert list(historian.columns) == ["tag", "ts", "value", "quality"]
    assert pq.read_schema(files[0]).field("ts").type.unit == "us"
    assert set(historian["quality"]) == {"GOOD"}
    assert not historian.duplicated(["tag", "ts"]).any()
    assert not any(p.name.endswith(".tmp") for p in converted.landing.rglob("*"))
    assert not (converted.landing / "mes_states").exists()  # historian + CMMS only


def test_values_lie_within_the_tag_limits(converted, historian):
    limits = {t.tag: (t.min, t.max) for _, t in load_plant(converted.plant_path).iter_tags()}
    lo = historian["tag"].map(lambda t: limits[t][0])
    hi = historian["tag"].map(lambda t: limits[t][1])
    assert historian["tag"].isin(limits).all()
    assert ((historian["value"] >= lo) & (historian["value"] <= hi)).all()


def test_one_cycle_per_hour_per_engine(data, historian):
    t24 = historian[historian["tag"].str.endswith(".T24")].sort_values(["tag", "ts"])
    assert len(t24) == len(data.train) + len(data.test)
    steps = t24.groupby("tag")["ts"].diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(hours=1)]


def test_one_corrective_work_order_per_training_engine_at_its_last_cycle(orders, historian):
    assert len(orders) == N_TRAIN
    assert set(orders["type"]) == {"CORRECTIVE"}
    assert set(orders["machine_id"]) == {cmapss_plant.train_id(u) for u in range(1, N_TRAIN + 1)}
    assert list(orders.columns) == cmapss_cmms_columns()
    last = historian.assign(machine_id=historian["tag"].str.split(".").str[0])
    last = last.groupby("machine_id")["ts"].max()
    start = pd.to_datetime(orders["start_ts"]).dt.tz_localize(None)
    gap = start.to_numpy() - last.loc[orders["machine_id"]].to_numpy()
    assert (
        gap == pd.Timedelta(minutes=1)
    ).all()  # right after the last cycle, before the next hour
    assert (pd.to_datetime(orders["end_ts"]) > pd.to_datetime(orders["start_ts"])).all()


def cmapss_cmms_columns() -> list[str]:
    return [
        "work_order_id",
        "machine_id",
        "type",
        "failure_mode",
        "reported_ts",
        "start_ts",
        "end_ts",
    ]


def test_training_failures_are_spread_over_time(orders):
    starts = pd.to_datetime(orders["start_ts"]).sort_values().diff().dropna().unique()
    assert list(starts) == [pd.Timedelta(hours=LAYOUT.spacing_h)]


def test_test_engines_end_together_at_now_with_no_failure(converted, historian, orders):
    ends = historian.assign(machine_id=historian["tag"].str.split(".").str[0])
    ends = ends.groupby("machine_id")["ts"].max()
    test_ends = ends[ends.index.str.startswith("TE-")]
    assert len(test_ends) == N_TEST
    assert set(test_ends) == {pd.Timestamp(LAYOUT.now)}
    assert not orders["machine_id"].str.startswith("TE-").any()
    truth = pd.read_csv(converted.truth_path)
    assert len(truth) == N_TEST
    assert (truth["rul_h"] > 0).all()
    assert not str(converted.truth_path).startswith(str(converted.landing))


def test_nothing_is_in_the_future(historian, orders):
    now = pd.Timestamp(LAYOUT.now)
    assert historian["ts"].max() <= now
    for col in ("reported_ts", "start_ts", "end_ts"):
        assert pd.to_datetime(orders[col]).dt.tz_localize(None).max() <= now
    assert LAYOUT.now < dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_cli_prints_where_things_are(tmp_path: Path, capsys):
    cmapss_plant.main(["--out", str(tmp_path), "--train-units", "2", "--test-units", "2"])
    printed = capsys.readouterr().out
    assert str(tmp_path / "plant.yaml") in printed
    assert load_plant(tmp_path / "plant.yaml").machines


def test_every_historian_file_is_complete_for_the_ingest(converted):
    # Regression: one file per day mixed engines starting or ending mid-day with engines running all
    # day, so the ingest judged most tags incomplete over the file's span and held 44 of 56 days.
    from twin.ingest.completeness import tag_completeness

    plant = load_plant(converted.plant_path)
    for f in sorted((converted.landing / "historian").glob("*.parquet")):
        rows = pq.read_table(f).to_pandas()
        good = rows.groupby("tag").size().to_dict()
        outcome = tag_completeness(
            plant, good, rows["ts"].min().to_pydatetime(), rows["ts"].max().to_pydatetime(), 0.95
        )
        assert outcome.passed, (f.name, outcome.failing_tags[:3])
