"""Export files for SAP IBP, Kinaxis and o9, read back as a strict loader would: exact delimiter and
header, equal field counts, ISO dates, finite non-negative numbers, one row per key, and the figures
of capacity_supply (IBP: line-week quantiles; Kinaxis: day buckets, a shiftless day at 0; o9: the
long view's measures, wide)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from tests.support.publication import SCENARIOS, WEEKS, make_tables
from twin.plant.model import parse_plant
from twin.publish.connectors import IBP_VERSIONS, VIEWS
from twin.publish.exports import (
    EXPORTS_DIR,
    IBP_FILE,
    INDEX_NAME,
    KINAXIS_FILE,
    O9_FILE,
    ExportError,
    read_index,
    write_exports,
)

PLANT = parse_plant(
    {
        "site": {"id": "S1", "name": "test", "timezone": "Europe/Berlin"},
        "calendar": {
            "shifts": [
                {"name": "early", "start": "06:00", "end": "14:00", "days": ["mon", "tue"]},
                {"name": "late", "start": "14:00", "end": "22:00", "days": ["wed", "thu", "fri"]},
            ]
        },
        "products": [{"id": "P1", "family": "f"}],
        "lines": [
            {
                "id": "L1",
                "buffer_capacity": 5,
                "machines": [
                    {"id": "L1-M1", "type": "press", "ideal_cycle_time_s": {"P1": 30}},
                    {"id": "L1-M2", "type": "press", "ideal_cycle_time_s": {"P1": 36}},
                ],
            }
        ],
    }
)
# Share of a week's p50 capacity per weekday: Saturday and Sunday have no shifts, hence 0.
DAY_SHARES = [0.22, 0.18, 0.2, 0.19, 0.21, 0.0, 0.0]
SHIFTLESS = [WEEKS[0] + dt.timedelta(days=5), WEEKS[0] + dt.timedelta(days=6)]
IBP_HEADER = ["RESID", "LOCID", "PERIODID4_TSTAMP", "VERSIONID", "UOMTOID", "CAPASUPPLY"]
KINAXIS_HEADER = ["Constraint", "Site", "Date", "Quantity", "Scenario"]
O9_MEASURES = [
    f"{m} {q}" for m in ("Available Hours", "Capacity Units") for q in ("P10", "P50", "P90")
]
O9_HEADER = ["Resource", "Location", "Time", "Scenario", *O9_MEASURES]


def tables_with_days() -> dict[str, pd.DataFrame]:
    """make_tables() plus day buckets of line L1 for every week, scenario and quantile whose p50
    days add up to the week's p50 (quantiles in general do not add up; here they are built to)."""
    tables = make_tables()
    supply = tables["capacity_supply"]
    weeks = supply[(supply["resource_level"] == "line") & (supply["bucket_grain"] == "week")]
    days = []
    for row in weeks.to_dict("records"):
        for i, share in enumerate(DAY_SHARES):
            day = row["bucket_start"] + dt.timedelta(days=i)
            hours = 16.0 * share / 0.2 if share else 0.0
            days.append(
                {
                    **row,
                    "bucket_grain": "day",
                    "bucket_start": day,
                    "bucket_end": day + dt.timedelta(days=1),
                    "calendar_hours": hours,
                    "planned_downtime_hours": 0.0,
                    "expected_unplanned_downtime_hours": hours * 0.1,
                    "available_hours": row["available_hours"] * share,
                    "capacity_units": row["capacity_units"] * share,
                }
            )
    tables["capacity_supply"] = pd.concat([supply, pd.DataFrame(days)], ignore_index=True)
    return tables


def read_strict(path: Path, delimiter: str, header: list[str]) -> list[dict[str, str]]:
    """Parse as a loader would: UTF-8 without BOM, exact delimiter and header, equal field counts."""
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter, quoting=quoting, strict=True))
    assert rows[0] == header
    assert rows[1:], f"{path.name} has no data rows"
    for line, row in enumerate(rows[1:], start=2):
        assert len(row) == len(header), f"{path.name} line {line}: {row}"
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def iso_date(value: str) -> dt.date:
    day = dt.date.fromisoformat(value)
    assert value == day.isoformat()  # YYYY-MM-DD exactly, no time part
    return day


def amount(value: str) -> float:
    assert "e" not in value.lower(), value  # fixed point, no exponent
    x = float(value)
    assert math.isfinite(x), value
    assert x >= 0, value
    return x


def assert_unique(rows: list[dict[str, str]], key: list[str]) -> None:
    keys = [tuple(r[k] for k in key) for r in rows]
    assert len(keys) == len(set(keys))


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, dict[str, pd.DataFrame], list[Path]]:
    tables = tables_with_days()
    return tmp_path, tables, write_exports(tmp_path, tables, PLANT)


def test_files_are_listed_with_row_counts_and_written_atomically(written) -> None:
    version_dir, _, paths = written
    folder = version_dir / EXPORTS_DIR
    assert [p.name for p in paths] == [IBP_FILE, KINAXIS_FILE, O9_FILE, "index.json"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)  # no .tmp
    index = read_index(version_dir)
    assert set(index) == {IBP_FILE, KINAXIS_FILE, O9_FILE}
    for name, delimiter in ((IBP_FILE, ","), (KINAXIS_FILE, "\t"), (O9_FILE, ",")):
        entry = index[name]
        rows = read_strict(folder / name, delimiter, entry["columns"])
        assert entry["rows"] == len(rows)
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()


def test_ibp_file_carries_the_line_week_quantiles_of_the_baseline(written) -> None:
    version_dir, tables, _ = written
    rows = read_strict(version_dir / EXPORTS_DIR / IBP_FILE, ",", IBP_HEADER)
    assert_unique(rows, ["RESID", "LOCID", "PERIODID4_TSTAMP", "VERSIONID"])
    got = {}
    for r in rows:
        period = iso_date(r["PERIODID4_TSTAMP"])
        assert period.weekday() == 0
        assert r["UOMTOID"] == "parts"
        got[(r["RESID"], r["LOCID"], period, r["VERSIONID"])] = amount(r["CAPASUPPLY"])
    s = tables["capacity_supply"]
    want = {
        (r.resource_id, r.site_id, r.bucket_start, IBP_VERSIONS[r.quantile]): r.capacity_units
        for r in s[
            (s["resource_level"] == "line")
            & (s["bucket_grain"] == "week")
            & (s["scenario_id"] == "baseline")
        ].itertuples()
    }
    assert len(want) == len(WEEKS) * 3
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6)
    assert {r["VERSIONID"] for r in rows} == {"DOWNSIDE", "BASELINE", "UPSIDE"}


def test_kinaxis_file_has_days_with_a_zero_for_a_shiftless_day(written) -> None:
    version_dir, tables, _ = written
    rows = read_strict(version_dir / EXPORTS_DIR / KINAXIS_FILE, "\t", KINAXIS_HEADER)
    assert_unique(rows, ["Constraint", "Date", "Scenario"])
    quantity = {
        (r["Constraint"], r["Site"], iso_date(r["Date"]), r["Scenario"]): amount(r["Quantity"])
        for r in rows
    }
    assert {r["Scenario"] for r in rows} == set(SCENARIOS)
    assert {r["Constraint"] for r in rows} == {"L1"}  # lines only, machines are not constraints
    for scenario in SCENARIOS:
        for day in SHIFTLESS:
            assert quantity[("L1", "S1", day, scenario)] == 0.0  # not a seventh of the week
    s = tables["capacity_supply"]
    weeks = s[
        (s["resource_level"] == "line") & (s["bucket_grain"] == "week") & (s["quantile"] == "p50")
    ]
    for w in weeks.itertuples():
        dates = [w.bucket_start + dt.timedelta(days=i) for i in range(7)]
        daily = [quantity[("L1", "S1", d, w.scenario_id)] for d in dates]  # every day present
        assert sum(daily) == pytest.approx(w.capacity_units, abs=1e-5)
    assert len(rows) == len(SCENARIOS) * len(WEEKS) * 7


def test_o9_file_is_the_long_view_made_wide(written) -> None:
    version_dir, tables, _ = written
    rows = read_strict(version_dir / EXPORTS_DIR / O9_FILE, ",", O9_HEADER)
    assert_unique(rows, ["Resource", "Location", "Time", "Scenario"])
    wide = {}
    for r in rows:
        assert r["Scenario"] == "baseline"
        time = iso_date(r["Time"])
        for measure in O9_MEASURES:
            wide[(r["Resource"], r["Location"], time, measure)] = amount(r[measure])
    con = duckdb.connect()
    con.register("capacity_supply", tables["capacity_supply"])
    long = con.execute(VIEWS["o9_resource_capacity"]).fetchall()
    assert len(long) == len(wide) == 3 * len(WEEKS) * len(O9_MEASURES)
    for resource, location, time, measure, value in long:
        assert wide[(resource, location, time, measure)] == pytest.approx(value, abs=1e-6)


def test_same_tables_give_the_same_bytes_whatever_the_row_order(tmp_path: Path) -> None:
    tables = tables_with_days()
    write_exports(tmp_path / "a", tables, PLANT)
    shuffled = dict(tables)
    shuffled["capacity_supply"] = tables["capacity_supply"].sample(frac=1.0, random_state=7)
    arrow = {"capacity_supply": pa.Table.from_pandas(shuffled["capacity_supply"])}
    write_exports(tmp_path / "b", arrow, PLANT)
    for name in (IBP_FILE, KINAXIS_FILE, O9_FILE, "index.json"):
        a = (tmp_path / "a" / EXPORTS_DIR / name).read_bytes()
        assert a == (tmp_path / "b" / EXPORTS_DIR / name).read_bytes(), name


def _broken(kind: str) -> dict[str, pd.DataFrame]:
    tables = tables_with_days()
    s = tables["capacity_supply"]
    if kind == "negative":
        s.loc[
            (s["resource_level"] == "line") & (s["bucket_grain"] == "week"), "capacity_units"
        ] = -1
    elif kind == "nan":
        s.loc[s.index[0], "available_hours"] = float("nan")
    elif kind == "a day missing":
        tables["capacity_supply"] = s[
            ~((s["bucket_grain"] == "day") & (s["bucket_start"] == SHIFTLESS[1]))
        ]
    elif kind == "duplicate":
        tables["capacity_supply"] = pd.concat([s, s.iloc[[0]]], ignore_index=True)
    elif kind == "tab in a name":
        s["scenario_id"] = s["scenario_id"].str.replace("overtime", "over\ttime")
    elif kind == "other site":
        s["site_id"] = "S2"
    return tables


@pytest.mark.parametrize(
    "kind",
    ["negative", "nan", "a day missing", "duplicate", "tab in a name", "other site"],
)
def test_refuses_tables_a_loader_would_reject_and_writes_nothing(tmp_path: Path, kind) -> None:
    with pytest.raises(ExportError):
        write_exports(tmp_path, _broken(kind), PLANT)
    assert not (tmp_path / EXPORTS_DIR).exists() or not any((tmp_path / EXPORTS_DIR).iterdir())


def test_weekly_only_tables_get_no_kinaxis_file_and_the_index_says_why(tmp_path: Path) -> None:
    tables = tables_with_days()
    supply = tables["capacity_supply"]
    tables["capacity_supply"] = supply[supply["bucket_grain"] == "week"]
    written = write_exports(tmp_path, tables, PLANT)
    assert {p.name for p in written} == {IBP_FILE, O9_FILE, INDEX_NAME}  # never a spread week
    index = json.loads((tmp_path / EXPORTS_DIR / INDEX_NAME).read_text())
    assert index["skipped"] == {KINAXIS_FILE: "capacity_supply has no day buckets"}
    assert set(read_index(tmp_path)) == {IBP_FILE, O9_FILE}
