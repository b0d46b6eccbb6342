"""The historian aggregates and features are built day by day (macros/materializations/
incremental_by_day.sql): a late file rebuilds exactly the site-local days its samples lie in (and
the days whose rolling windows reach back over them), a new day costs one day, a build with
nothing new builds no day, a removed batch takes its rows with it, and after all of that every
intermediate table and mart equals a build from scratch on the same lake, row for row.

The plant is in Europe/Berlin: a site-local day is 23:00-23:00 UTC here (March, before the clock
change), so a day's batch that starts on local midnight also touches the last hour of the day
before (an hour bucket ends on the hour), and UTC days would be the wrong partition.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.integration.conftest import TinyLake, tiny_plant
from tests.support.dbt import built_results, dbt_build

pytestmark = pytest.mark.integration

FIRST_DAY = dt.date(2026, 3, 2)  # Monday
DAYS = 12  # 03-02 .. 03-13
LATE_DAY = dt.date(2026, 3, 4)  # its historian batch lands after the first build
REMOVED_DAY = dt.date(2026, 3, 6)  # its historian batch is removed by an operator
NEW_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)  # 03-13: lands last, as the next day would
SAMPLE_EVERY = dt.timedelta(minutes=5)
LOADED = dt.datetime(2026, 3, 20)
INCREMENTAL_MODELS = (
    "int_sensor_readings_aggregated_to_day",
    "int_tag_completeness_daily",
    "int_sensor_readings_hourly",
    "int_tag_hours_rolled",
)
SELECTION = ("path:models/staging", "path:models/intermediate", "path:models/marts")


def _day(offset: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=offset)


def _local_day_start_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) - dt.timedelta(hours=1)  # CET = UTC+1


def _historian_rows(day: dt.date) -> list[dict]:
    """One sample per tag every 5 minutes over the site-local day, from its midnight on."""
    rng = np.random.default_rng(day.toordinal())
    start = _local_day_start_utc(day)
    rows = []
    for step in range(int(dt.timedelta(days=1) / SAMPLE_EVERY)):
        ts = start + step * SAMPLE_EVERY
        working = 6 <= (ts.hour + 1) % 24 < 22
        rows += [
            {"tag": "L1-M1.power", "ts": ts, "value": (50.0 if working else 8.0) + rng.normal()},
            {"tag": "L1-M1.temp", "ts": ts, "value": 40.0 + 0.2 * step % 7 + rng.normal()},
            {"tag": "L1-M2.power", "ts": ts, "value": 20.0 + rng.normal(0, 0.5)},
        ]
    for row in rows:
        row["quality"] = "BAD" if row["value"] < 0 else "GOOD"
    return rows


def _mes_rows(day: dt.date) -> list[dict]:
    start = _local_day_start_utc(day)
    hour = dt.timedelta(hours=1)
    spans = [(0, 6, "IDLE"), (6, 22, "RUNNING"), (22, 24, "IDLE")]
    return [
        {
            "machine_id": machine,
            "state": state,
            "start_ts": start + a * hour,
            "end_ts": start + b * hour,
            "reason_code": None,
        }
        for machine in ("L1-M1", "L1-M2")
        for a, b, state in spans
    ]


def _land_day(lake: TinyLake, day: dt.date, *, historian: bool = True) -> None:
    lake.write_batch("mes_states", f"mes-{day}", _mes_rows(day), LOADED)
    if historian:
        lake.write_batch("historian", f"hist-{day}", _historian_rows(day), LOADED)


def _build(home: Path, work: Path, *args: str) -> str:
    """`dbt run` of the whole project for TWIN_HOME=home; the invocation's id."""
    proc = dbt_build(work, *SELECTION, home=home, command="run", args=args)
    built_results(work, proc)
    return json.loads((work / "dbt_target" / "run_results.json").read_text())["metadata"][
        "invocation_id"
    ]


def _day_builds(home: Path, invocation_id: str) -> list[tuple]:
    """(model, day, window_start, window_end) of every day the invocation built."""
    with duckdb.connect(str(home / "warehouse" / "twin.duckdb"), read_only=True) as con:
        return con.execute(
            "select model_name, day, window_start, window_end from build_log.day_builds "
            "where invocation_id = ?",
            [invocation_id],
        ).fetchall()


def _days_built(builds: list[tuple]) -> dict[str, set[dt.date]]:
    built: dict[str, set[dt.date]] = {model: set() for model in INCREMENTAL_MODELS}
    for model, day, _, _ in builds:
        built[model].add(day)
    return built


def _span(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


def _tables(home: Path) -> dict[str, pd.DataFrame]:
    """Every intermediate and mart relation, rows in a canonical order."""
    with duckdb.connect(str(home / "warehouse" / "twin.duckdb"), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') order by 1, 2"
        ).fetchall()
        frames = {}
        for schema, name in names:
            frame = con.execute(f'select * from "{schema}"."{name}"').df()
            frames[f"{schema}.{name}"] = frame.sort_values(list(frame.columns)).reset_index(
                drop=True
            )
    return frames


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> dict:
    """The lake built four times as it grows (late day, removed batch, new day, nothing new),
    then the same lake built from scratch in another home."""
    root = tmp_path_factory.mktemp("incremental")
    lake = TinyLake(root / "home", tiny_plant(), dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    for offset in range(DAYS - 1):
        _land_day(lake, _day(offset), historian=_day(offset) != LATE_DAY)
    first = _build(lake.home, root / "first")

    _land_day(lake, LATE_DAY)
    (lake.lake / "historian" / f"hist-{REMOVED_DAY}.parquet").unlink()
    late = _build(lake.home, root / "late")

    _land_day(lake, NEW_DAY)
    new_day = _build(lake.home, root / "new_day")
    nothing_new = _build(lake.home, root / "nothing_new")

    scratch = root / "scratch"
    shutil.copytree(lake.lake, scratch / "lake")
    (scratch / "warehouse").mkdir()
    _build(scratch, root / "scratch_build")

    # the operator's full rebuild of an existing home: dbt's --full-refresh
    refreshed = root / "refreshed"
    shutil.copytree(lake.home, refreshed)
    full_refresh = _build(refreshed, root / "full_refresh", "--full-refresh")
    return {
        "home": lake.home,
        "builds": {
            name: _day_builds(lake.home, invocation)
            for name, invocation in [
                ("first", first),
                ("late", late),
                ("new_day", new_day),
                ("nothing_new", nothing_new),
            ]
        },
        "full_refresh": _days_built(_day_builds(refreshed, full_refresh)),
        "incremental": _tables(lake.home),
        "scratch": _tables(scratch),
        "refreshed": _tables(refreshed),
    }


def test_first_build_builds_every_day_with_data(history) -> None:
    built = _days_built(history["builds"]["first"])
    sampled = _span(_day(0), _day(DAYS - 2)) - {LATE_DAY}
    assert built["int_sensor_readings_aggregated_to_day"] == sampled
    # the rolling features span every machine hour: the first sample, on local midnight, ends
    # the last hour of the day before
    assert built["int_tag_hours_rolled"] == _span(_day(-1), _day(DAYS - 2))


def test_late_file_rebuilds_only_its_days_and_the_windows_over_them(history) -> None:
    built = _days_built(history["builds"]["late"])
    # the daily aggregates: the late day gains rows, the removed day loses its rows (deleted, not
    # rebuilt: no sample is left in it); nothing else is touched
    assert built["int_sensor_readings_aggregated_to_day"] == {LATE_DAY}
    assert built["int_tag_completeness_daily"] == {LATE_DAY, REMOVED_DAY}
    # hourly buckets end on the hour: a day's midnight sample closes the day before's last hour,
    # so each changed day also rebuilds the day before it (the removed day keeps one hour, from
    # the next day's midnight sample)
    day = dt.timedelta(days=1)
    assert built["int_sensor_readings_hourly"] == {
        LATE_DAY - day,
        LATE_DAY,
        REMOVED_DAY - day,
        REMOVED_DAY,
    }
    # rolling windows look back 7 days + 23 h: every day up to 8 days after a change, never before
    assert built["int_tag_hours_rolled"] == (
        _span(LATE_DAY - day, REMOVED_DAY + 8 * day) & _span(_day(0), _day(DAYS - 2))
    )


def test_new_day_costs_one_day(history) -> None:
    built = _days_built(history["builds"]["new_day"])
    assert built["int_sensor_readings_aggregated_to_day"] == {NEW_DAY}
    assert built["int_tag_completeness_daily"] == {NEW_DAY}
    assert built["int_sensor_readings_hourly"] == {NEW_DAY - dt.timedelta(days=1), NEW_DAY}
    assert built["int_tag_hours_rolled"] == {NEW_DAY - dt.timedelta(days=1), NEW_DAY}


def test_a_new_day_rebuilds_only_the_last_hour_of_the_day_before(history) -> None:
    """The new day's first sample, on local midnight, ends the day before's last hour: of that
    day only that hour is rebuilt (the hourly buckets, and the rolling windows ending in it)."""
    day_before = NEW_DAY - dt.timedelta(days=1)
    midnight = _local_day_start_utc(NEW_DAY)
    windows = {
        model: (start, end)
        for model, day, start, end in history["builds"]["new_day"]
        if day == day_before
    }
    hour = dt.timedelta(hours=1)
    assert windows == {
        "int_sensor_readings_hourly": (midnight - hour, midnight),
        "int_tag_hours_rolled": (midnight - hour, midnight),
    }


def test_nothing_new_builds_no_day(history) -> None:
    assert history["builds"]["nothing_new"] == []


def test_removed_batch_leaves_no_rows(history) -> None:
    daily = history["incremental"]["intermediate.int_sensor_readings_aggregated_to_day"]
    days = set(pd.to_datetime(daily["date"]).dt.date)
    assert REMOVED_DAY not in days
    assert LATE_DAY in days
    assert NEW_DAY in days


@pytest.mark.parametrize("other", ["scratch", "refreshed"])
def test_incremental_build_equals_a_full_rebuild(history, other: str) -> None:
    """From scratch in a new home, and `--full-refresh` of a copy of the incremental home."""
    incremental, rebuilt = history["incremental"], history[other]
    assert set(incremental) == set(rebuilt)
    assert all(len(rebuilt[f"intermediate.{model}"]) for model in INCREMENTAL_MODELS)
    for name, expected in rebuilt.items():
        got = incremental[name]
        assert list(got.columns) == list(expected.columns), name
        assert len(got) == len(expected), name
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, obj=name)


def test_full_refresh_builds_every_day(history) -> None:
    built = history["full_refresh"]
    assert built["int_sensor_readings_aggregated_to_day"] == _span(_day(0), NEW_DAY) - {REMOVED_DAY}
    assert built["int_tag_hours_rolled"] == _span(_day(-1), NEW_DAY)
