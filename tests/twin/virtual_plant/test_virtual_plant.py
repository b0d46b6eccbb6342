"""The virtual plant: determinism, continuity, physics of failures, cross-source consistency, defects."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twin.paths import DEMO_PLANT
from twin.plant.calendar import day_window, shift_windows
from twin.plant.model import Plant, load_plant
from twin.plant.synthetic import synthetic_plant
from twin.virtual_plant.generator import generate, read_truth

START = dt.date(2026, 10, 19)  # a Monday; the 21 days include the 25-hour DST day 2026-10-25
DAYS = 21
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
CONTRACT = {
    "mes_states": ["machine_id", "state", "start_ts", "end_ts", "reason_code"],
    "mes_production": [
        "machine_id",
        "start_ts",
        "end_ts",
        "product_id",
        "work_order_id",
        "good_qty",
        "scrap_qty",
    ],
    "cmms": [
        "work_order_id",
        "machine_id",
        "type",
        "failure_mode",
        "reported_ts",
        "start_ts",
        "end_ts",
    ],
}


@pytest.fixture(scope="module")
def plant() -> Plant:
    return load_plant(DEMO_PLANT)


@pytest.fixture(scope="module")
def run(plant: Plant, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of the demo plant with defects (about 2 s)."""
    home = tmp_path_factory.mktemp("vp")
    generate(plant, home / "landing", days=DAYS, start=START, seed=7)
    return home


def _csv(home: Path, source: str, late: bool = True) -> pd.DataFrame:
    files = sorted((home / "landing" / source).glob("*.csv"))
    files = [f for f in files if late or "_late" not in f.name]
    return pd.concat([pd.read_csv(f, keep_default_na=False) for f in files], ignore_index=True)


def _ts(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col.str.rstrip("Z")).astype("datetime64[us]")


def _states(home: Path) -> pd.DataFrame:
    s = _csv(home, "mes_states").drop_duplicates()
    s["start"], s["end"] = _ts(s["start_ts"]), _ts(s["end_ts"])
    return s.sort_values(["machine_id", "start"]).reset_index(drop=True)


def _historian(home: Path, tags: list[str]) -> pd.DataFrame:
    files = sorted((home / "landing" / "historian").glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f, filters=[("tag", "in", tags)]) for f in files])
    return table.to_pandas().sort_values(["tag", "ts"]).reset_index(drop=True)


def _state_at(states: pd.DataFrame, machine: str, ts: pd.Series) -> np.ndarray:
    m = states[states["machine_id"] == machine]
    i = np.searchsorted(m["start"].to_numpy(), ts.to_numpy(), side="right") - 1
    return m["state"].to_numpy()[np.clip(i, 0, None)]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --- determinism and continuity ---------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_data(plant: Plant, tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        generate(plant, tmp_path / name / "landing", days=2, start=START, seed=seed)
    a, b, c = (_tree(tmp_path / n) for n in "abc")
    assert a == b
    hist = "landing/historian/historian_2026-10-19.parquet"
    assert a[hist] != c[hist]
    assert (
        a["landing/mes_states/mes_states_2026-10-19.csv"]
        != c["landing/mes_states/mes_states_2026-10-19.csv"]
    )


def test_two_calls_continue_the_same_history_as_one(plant: Plant, tmp_path: Path) -> None:
    generate(plant, tmp_path / "one" / "landing", days=20, start=START, seed=3)
    generate(plant, tmp_path / "two" / "landing", days=10, start=START, seed=3)
    report = generate(plant, tmp_path / "two" / "landing", days=10, seed=3)  # start=None: continue
    assert report.first_day == START + dt.timedelta(days=10)
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert sorted(one) == sorted(two)
    different = [name for name in one if one[name] != two[name]]
    assert different == []
    # the second half really holds failures whose wear built up during the first half
    failures = read_truth(tmp_path / "two" / "generator" / "truth")["failures"]
    late = failures[(failures["start"] >= "2026-10-29") & failures["had_precursor"]]
    assert (late["precursor_start"] < "2026-10-29").any()


def test_start_none_ends_yesterday_then_continues(plant: Plant, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = generate(plant, landing, days=2, defects=False)
    assert first.last_day == dt.date.today() - dt.timedelta(days=1)
    second = generate(
        plant, landing, days=1, start=dt.date.today() - dt.timedelta(days=5), defects=False
    )
    assert second.first_day == dt.date.today() - dt.timedelta(days=5)
    third = generate(plant, landing, days=1, defects=False)
    assert third.first_day == dt.date.today()  # continues after the latest day, not after the rerun


# --- schema -----------------------------------------------------------------------------------


def test_files_follow_the_landing_contract(run: Path, plant: Plant) -> None:
    landing = run / "landing"
    for source, columns in CONTRACT.items():
        files = sorted((landing / source).glob("*.csv"))
        assert len([f for f in files if "_late" not in f.name]) == DAYS
        for f in files:
            frame = pd.read_csv(f, keep_default_na=False, dtype=str)
            assert list(frame.columns) == columns, f
            for col in (c for c in columns if c.endswith("_ts")):
                assert frame[col].str.match(ISO_Z).all(), (f, col)
    assert not list(landing.rglob("*.tmp"))
    states = _csv(run, "mes_states")
    allowed = {"RUNNING", "IDLE", "SETUP", "PLANNED_DOWNTIME", "UNPLANNED_DOWNTIME", "OFF"}
    assert set(states["state"]) == allowed
    assert set(_csv(run, "cmms")["type"]) == {"CORRECTIVE", "PREVENTIVE"}
    prod = _csv(run, "mes_production")
    assert (prod[["good_qty", "scrap_qty"]] >= 0).all().all()
    for f in sorted((landing / "historian").glob("*.parquet")):
        schema = pq.read_schema(f)
        assert schema.names == ["tag", "ts", "value", "quality"]
        assert schema.types == [pa.string(), pa.timestamp("us"), pa.float64(), pa.string()], f
    hist = pq.read_table(landing / "historian" / "historian_2026-10-20.parquet").to_pandas()
    assert set(hist["quality"]) == {"GOOD", "UNCERTAIN", "BAD"}
    assert set(hist["tag"]) == {t.tag for _, t in plant.iter_tags()}
    assert hist["ts"].min() >= pd.Timestamp(day_window(plant, dt.date(2026, 10, 20)).start)
    assert hist["ts"].max() < pd.Timestamp(day_window(plant, dt.date(2026, 10, 20)).end)


def test_historian_csv_option(tmp_path: Path) -> None:
    tiny = synthetic_plant(1, 2, 3, 30.0)
    generate(tiny, tmp_path / "landing", days=1, start=START, historian_format="csv")
    frame = pd.read_csv(tmp_path / "landing" / "historian" / "historian_2026-10-19.csv", dtype=str)
    assert list(frame.columns) == ["tag", "ts", "value", "quality"]
    assert frame["ts"].str.match(ISO_Z).all()
    assert len(frame) >= 0.98 * 6 * 2880


@pytest.mark.parametrize("historian_format", ["parquet", "csv"])
def test_a_plant_without_tags_lands_an_empty_historian_file(
    tmp_path: Path, historian_format: str
) -> None:
    """Tags are optional in the plant model: such a plant still gets every day's files, the
    historian one empty with the landing schema, and its MES data as any other plant."""
    tagless = synthetic_plant(1, 2, 0, 30.0)
    report = generate(
        tagless, tmp_path / "landing", days=1, start=START, historian_format=historian_format
    )
    path = tmp_path / "landing" / "historian" / f"historian_2026-10-19.{historian_format}"
    if historian_format == "parquet":
        table = pq.read_table(path)
        assert table.num_rows == 0
        assert table.schema.names == ["tag", "ts", "value", "quality"]
    else:
        assert list(pd.read_csv(path).columns) == ["tag", "ts", "value", "quality"]
    assert report.rows["historian"] == 0
    assert report.rows["mes_states"] > 0


# --- consistency across sources -----------------------------------------------------------------


def test_states_tile_every_day_including_dst(run: Path, plant: Plant) -> None:
    states = _states(run)
    for machine, m in states.groupby("machine_id"):
        assert (m["end"] > m["start"]).all()
        assert (m["start"].iloc[1:].to_numpy() == m["end"].iloc[:-1].to_numpy()).all(), machine
    first, last = day_window(plant, START), day_window(plant, START + dt.timedelta(days=DAYS - 1))
    assert (states.groupby("machine_id")["start"].min() == pd.Timestamp(first.start)).all()
    assert (states.groupby("machine_id")["end"].max() == pd.Timestamp(last.end)).all()
    dst = day_window(plant, dt.date(2026, 10, 25))
    assert dst.hours == 25


def test_production_only_while_running_and_within_cycle_time(run: Path, plant: Plant) -> None:
    states = _states(run)
    prod = _csv(run, "mes_production").drop_duplicates()
    prod["start"], prod["end"] = _ts(prod["start_ts"]), _ts(prod["end_ts"])
    running = states[states["state"] == "RUNNING"]
    assert prod["good_qty"].sum() > 50_000
    for machine, rows in prod.groupby("machine_id"):
        r = running[running["machine_id"] == machine]
        rs, re_ = r["start"].to_numpy(), r["end"].to_numpy()
        ict = plant.machine(machine).ideal_cycle_time_s
        for row in rows.itertuples():
            overlap = np.minimum(re_, np.datetime64(row.end)) - np.maximum(
                rs, np.datetime64(row.start)
            )
            run_s = overlap[overlap > np.timedelta64(0)].sum() / np.timedelta64(1, "s")
            # a part is counted when it is finished (vp_flow), so one part per slot may have
            # been begun in the previous slot: the others need their cycle time inside the slot
            produced = row.good_qty + row.scrap_qty
            assert (produced - 1) * ict[row.product_id] <= run_s + 1e-6, row
    scrap_rate = prod["scrap_qty"].sum() / (prod["good_qty"] + prod["scrap_qty"]).sum()
    assert 0.01 < scrap_rate < 0.06


def test_power_follows_state(run: Path, plant: Plant) -> None:
    states = _states(run)
    power = [(m.id, t) for m, t in plant.iter_tags() if t.signal == "power"][:6]
    hist = _historian(run, [t.tag for _, t in power])
    for machine, tag in power:
        h = hist[
            (hist["tag"] == tag.tag) & (hist["quality"] == "GOOD") & (hist["value"] <= tag.max)
        ]
        state = _state_at(states, machine, h["ts"])
        off = h["value"][state == "OFF"]
        on = h["value"][state == "RUNNING"]
        idle = h["value"][state == "IDLE"]
        assert len(off) > 1000
        assert len(on) > 1000
        assert off.quantile(0.99) < 0.05 * tag.max, tag.tag
        assert off.mean() < idle.mean() < on.mean(), tag.tag
        assert on.mean() > 0.4 * tag.max


def test_every_breakdown_has_a_corrective_work_order(run: Path) -> None:
    states = _states(run)
    cmms = _csv(run, "cmms")
    cmms["start"], cmms["end"] = _ts(cmms["start_ts"]), _ts(cmms["end_ts"])
    assert (_ts(cmms["reported_ts"]) >= cmms["start"])[cmms["type"] == "CORRECTIVE"].all()
    horizon = states["end"].max()
    for kind, state in (("CORRECTIVE", "UNPLANNED_DOWNTIME"), ("PREVENTIVE", "PLANNED_DOWNTIME")):
        orders = cmms[cmms["type"] == kind]
        down = states[(states["state"] == state) & (states["end"] < horizon)]
        assert len(down) > 0
        for row in down.itertuples():
            o = orders[orders["machine_id"] == row.machine_id]
            assert ((o["start"] <= row.start) & (o["end"] >= row.end)).any(), row
        for row in orders.itertuples():  # and every order shows in the MES
            m = down[down["machine_id"] == row.machine_id]
            assert ((m["start"] >= row.start) & (m["end"] <= row.end)).any(), row
    assert cmms.loc[cmms["type"] == "CORRECTIVE", "failure_mode"].str.len().gt(0).all()


def test_shifts_weekends_and_holidays_respected(plant: Plant, run: Path, tmp_path: Path) -> None:
    generate(plant, tmp_path / "landing", days=5, start=dt.date(2026, 12, 23), seed=7)
    for home, first, last in (
        (run, START, START + dt.timedelta(days=DAYS - 1)),
        (tmp_path, dt.date(2026, 12, 23), dt.date(2026, 12, 27)),
    ):
        states = _states(home)
        busy = states[states["state"].isin(["RUNNING", "IDLE", "SETUP"])]
        windows = shift_windows(plant, first, last)
        starts = np.array([np.datetime64(w.start) for w in windows])
        ends = np.array([np.datetime64(w.end) for w in windows])
        i = np.searchsorted(starts, busy["start"].to_numpy(), side="right") - 1
        assert (i >= 0).all()
        assert (busy["end"].to_numpy() <= ends[i]).all()
    holidays = _states(tmp_path)
    local = holidays["start"].dt.tz_localize("UTC").dt.tz_convert(plant.site.timezone).dt.date
    on_holiday = holidays[local.isin([dt.date(2026, 12, d) for d in (24, 25, 26, 27)])]
    assert not on_holiday["state"].isin(["RUNNING", "IDLE", "SETUP"]).any()
    assert (on_holiday["reason_code"] == "HOLIDAY").any()
    assert holidays[local == dt.date(2026, 12, 23)]["state"].eq("RUNNING").any()


# --- failures and their precursors ------------------------------------------------------------


def test_failure_rate_and_modes(run: Path, plant: Plant) -> None:
    failures = read_truth(run / "generator" / "truth")["failures"]
    per_machine_4w = len(failures) / len(plant.machines) * 28 / DAYS
    # MTBF_OP_H 100 on ~320 operating hours per 4 weeks: ~3.2, spread by the per-machine factor
    assert 2.0 <= per_machine_4w <= 4.5
    assert set(failures["failure_mode"]) >= {"bearing_wear", "thermal_drift", "electrical_fault"}
    silent = failures[failures["failure_mode"] == "electrical_fault"]
    assert len(silent) > 0
    assert not silent["had_precursor"].any()
    assert (
        failures.loc[failures["failure_mode"] != "electrical_fault", "had_precursor"].mean() > 0.8
    )


@pytest.mark.parametrize(
    ("mode", "signal", "min_ratio"),
    [("bearing_wear", "vibration", 1.8), ("thermal_drift", "temperature", 1.0)],
)
def test_precursor_rises_before_failure(
    run: Path, plant: Plant, mode: str, signal: str, min_ratio: float
) -> None:
    """Running-time signal in the last 8 operating hours before a failure vs. healthy running time."""
    truth = read_truth(run / "generator" / "truth")["failures"]
    states = _states(run)
    # ramps that started before the generated window have no samples to look at
    first_sample = f"{START.isoformat()}T00:00:00Z"
    cases = truth[
        (truth["failure_mode"] == mode)
        & (truth["precursor_op_hours"] >= 10)
        & (truth["precursor_start"] >= first_sample)
    ]
    assert len(cases) >= 2
    tags = {
        m: next(t for t in plant.machine(m).tags if t.signal == signal) for m in cases["machine_id"]
    }
    everything = _historian(run, [t.tag for t in tags.values()])
    checked = 0
    for case in cases.itertuples():
        tag = tags[case.machine_id]
        h = everything[everything["tag"] == tag.tag]
        h = h[(h["quality"] == "GOOD") & h["value"].between(tag.min, tag.max)]
        h = h[_state_at(states, case.machine_id, h["ts"]) == "RUNNING"]
        start = pd.Timestamp(case.start.rstrip("Z"))
        ramp = pd.Timestamp(case.precursor_start.rstrip("Z"))
        mine = truth[truth["machine_id"] == case.machine_id]
        sick = np.zeros(len(h), dtype=bool)
        for other in mine.itertuples():  # exclude every precursor ramp and repair of this machine
            lo = pd.Timestamp((other.precursor_start or other.start).rstrip("Z"))
            sick |= (
                (h["ts"] >= lo)
                & (h["ts"] < pd.Timestamp(other.end.rstrip("Z")) + pd.Timedelta(hours=2))
            ).to_numpy()
        before = h[(h["ts"] < start) & (h["ts"] >= ramp)].tail(int(8 * 3600 / tag.period_s))
        if len(before) < 4 * 3600 / tag.period_s:
            # It ran less than half of its last 8 operating hours (starved or blocked by the line):
            # a temperature follows the work done, so a machine that barely ran is no fair case.
            continue
        checked += 1
        healthy = h[~sick]
        assert len(healthy) > 1000
        if signal == "temperature":  # an offset on top of ambient: compare the rise above healthy
            assert before["value"].mean() - healthy["value"].mean() > 0.05 * (tag.max - tag.min), (
                case
            )
        else:
            assert before["value"].mean() > min_ratio * healthy["value"].mean(), case
    assert checked >= 2


# --- defects ------------------------------------------------------------------------------------


def test_defects_present_and_recorded(run: Path, plant: Plant) -> None:
    defects = read_truth(run / "generator" / "truth")["defects"]
    assert set(defects["kind"]) == {
        "dropout",
        "bad_quality",
        "out_of_range",
        "duplicate",
        "late_delivery",
    }
    landing = run / "landing"
    tags = [t for _, t in plant.iter_tags()]
    lo, hi = np.array([t.min for t in tags]), np.array([t.max for t in tags])
    period = np.array([t.period_s for t in tags])
    out_of_range = duplicates = not_good = 0
    completeness = []
    for offset in range(DAYS):  # one site-local day at a time, with its late slice if delivered
        date = START + dt.timedelta(days=offset)
        files = sorted((landing / "historian").glob(f"historian_{date}*.parquet"))
        h = pa.concat_tables([pq.read_table(f) for f in files]).to_pandas()
        code = pd.Categorical(h["tag"], categories=[t.tag for t in tags]).codes.astype(np.int64)
        assert (code >= 0).all()
        value = h["value"].to_numpy()
        out_of_range += int(((value > hi[code]) | (value < lo[code])).sum())
        window = day_window(plant, date)
        rel = h["ts"].to_numpy().astype("datetime64[us]") - np.datetime64(window.start, "us")
        rel = rel.astype(np.int64)
        assert ((rel >= 0) & (rel < window.hours * 3.6e9)).all()
        first = ~pd.Series((code << 37) | rel).duplicated().to_numpy()
        duplicates += int((~first).sum())
        good = (h["quality"] == "GOOD").to_numpy()
        not_good += int((~good).sum())
        received = np.bincount(code[good & first], minlength=len(tags))
        completeness.append(received / (window.hours * 3600 / period))
    recorded = defects[(defects["kind"] == "out_of_range")]
    assert out_of_range >= len(recorded) > 0
    dup = defects[(defects["kind"] == "duplicate") & (defects["source"] == "historian")]
    assert duplicates == dup["rows"].sum() > 0
    # every non-GOOD sample is recorded; a few sit in late slices still pending past the last day
    flagged = defects.loc[defects["kind"] == "bad_quality", "rows"].sum()
    assert 0.95 * flagged <= not_good <= flagged
    # completeness per tag-day: most above 95 %, dropouts make a few fall below
    completeness = np.concatenate(completeness)
    assert (completeness < 0.95).sum() >= 1
    assert (completeness >= 0.95).mean() > 0.95
    # a late slice is missing from its day's file and arrives in a _late file
    late = defects[defects["kind"] == "late_delivery"]
    for row in late.itertuples():
        stamp = row.date
        ext = "parquet" if row.source == "historian" else "csv"
        late_file = landing / row.source / f"{row.source}_{stamp}_late.{ext}"
        if row.due > (START + dt.timedelta(days=DAYS - 1)).isoformat():
            assert not late_file.exists()
            continue
        assert late_file.exists(), late_file
        if row.source == "mes_production":
            day = pd.read_csv(landing / row.source / f"mes_production_{stamp}.csv")
            held = pd.read_csv(late_file)
            assert len(held) == row.rows > 0
            keys = ["machine_id", "start_ts", "product_id"]
            assert not held[keys].merge(day[keys]).shape[0]
        else:
            held = pq.read_table(late_file).to_pandas()
            assert len(held) == row.rows > 0
            assert held["tag"].str.startswith(row.target + ".").all()


def test_no_defects_when_disabled(plant: Plant, tmp_path: Path) -> None:
    report = generate(plant, tmp_path / "landing", days=3, start=START, defects=False)
    assert report.defects == {}
    hist = pd.concat(
        pd.read_parquet(f) for f in sorted((tmp_path / "landing" / "historian").glob("*"))
    )
    assert (hist["quality"] == "GOOD").all()
    assert not hist.duplicated(["tag", "ts"]).any()
    assert not any("_late" in p.name for p in (tmp_path / "landing").rglob("*"))
    assert not _csv(tmp_path, "mes_states").duplicated().any()


def test_synthetic_plant_scale_knobs(tmp_path: Path) -> None:
    plant = synthetic_plant(2, 3, 7, 10.0, shifts="3x7")
    assert len(plant.machines) == 6
    assert len(list(plant.iter_tags())) == 42
    assert {t.signal for _, t in plant.iter_tags()} >= {
        "temperature",
        "vibration",
        "power",
        "humidity",
    }
    report = generate(
        plant, tmp_path / "landing", days=1, start=dt.date(2026, 10, 24), defects=False
    )
    assert report.rows["historian"] == 42 * 8640
    states = _csv(tmp_path, "mes_states")
    assert states["state"].eq("RUNNING").any()  # a Saturday, but this plant runs around the clock
