"""dbt build over a tiny hand-made lake: every model, data test and unit test passes, and the KPI marts
hold the values computed by hand below (ISO 22400-2, see dbt_project/models/marts/operations).

Besides line L1 (every machine with sensors) the plant has stations without sensors (DESIGN §3.2):
line L2 = L2-M1 (a tag that never delivered a sample) then L2-M2 (no tags, the line's output), and
line L3 = L3-M1 (no tags)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.integration.conftest import TINY_PLANT, TinyLake
from tests.support.dbt import built_results, dbt_build
from twin.plant.model import parse_plant
from twin.publish.table_checks import check_table, provisional_stamp

pytestmark = pytest.mark.integration

T = dt.datetime
LOADED_1 = T(2026, 3, 31, 0, 0)
LOADED_2 = T(2026, 3, 31, 6, 0)


NOT_APPLICABLE = "data completeness not applicable"


def _plant_with_stations_without_sensors() -> dict:
    plant = copy.deepcopy(TINY_PLANT)

    def machine(machine_id: str, tags: list[dict]) -> dict:
        return {
            "id": machine_id,
            "type": "assembly",
            "ideal_cycle_time_s": {"P1": 30.0},
            "changeover_min": 5,
            "planned_maintenance": [],
            "tags": tags,
        }

    temp = {
        "tag": "L2-M1.temp",
        "signal": "temperature",
        "unit": "degC",
        "period_s": 60,
        "min": -20,
        "max": 200,
    }
    plant["lines"] += [
        {
            "id": "L2",
            "buffer_capacity": 5,
            "machines": [machine("L2-M1", [temp]), machine("L2-M2", [])],
        },
        {"id": "L3", "buffer_capacity": 5, "machines": [machine("L3-M1", [])]},
    ]
    return plant


def _minutes(first: dt.datetime, count: int) -> list[dt.datetime]:
    return [first + dt.timedelta(minutes=i) for i in range(count)]


def build_scenario(lake) -> None:
    """Three site-local days (Europe/Berlin): 2026-03-10 (24 h), 2026-03-11, 2026-03-29 (DST, 23 h).

    All times below are UTC; 2026-03-10 local is [03-09 23:00, 03-10 23:00) UTC.
    """

    def state(m, s, a, b):
        return {
            "machine_id": m,
            "state": s,
            "start_ts": a,
            "end_ts": b,
            "reason_code": None,
        }

    lake.write_batch(
        "mes_states",
        "mes-1",
        [
            state("L1-M1", "PLANNED_DOWNTIME", T(2026, 3, 10, 3), T(2026, 3, 10, 5)),
            state("L1-M1", "RUNNING", T(2026, 3, 10, 5), T(2026, 3, 10, 10)),  # corrected by mes-2
            state("L1-M1", "UNPLANNED_DOWNTIME", T(2026, 3, 10, 11), T(2026, 3, 10, 12)),
            state("L1-M1", "SETUP", T(2026, 3, 10, 12), T(2026, 3, 10, 13)),
            state("L1-M1", "RUNNING", T(2026, 3, 10, 13), T(2026, 3, 10, 21)),
            state("L1-M1", "IDLE", T(2026, 3, 10, 20), T(2026, 3, 10, 22)),  # overlaps: wins 20-21
            state("L1-M1", "OFF", T(2026, 3, 10, 22), T(2026, 3, 11, 1)),  # crosses local midnight
            state("L1-M2", "RUNNING", T(2026, 3, 10, 5), T(2026, 3, 10, 21)),
            state(
                "L1-M2", "UNPLANNED_DOWNTIME", T(2026, 3, 10, 10), T(2026, 3, 10, 12, 30)
            ),  # nested
            state(
                "L1-M1", "RUNNING", T(2026, 3, 28, 23), T(2026, 3, 29, 22)
            ),  # the whole 23 h DST day
            # Stations without sensors on 03-10: RUNNING 8 h, UNPLANNED 2 h.
            state("L2-M2", "RUNNING", T(2026, 3, 10, 5), T(2026, 3, 10, 13)),
            state("L2-M2", "UNPLANNED_DOWNTIME", T(2026, 3, 10, 13), T(2026, 3, 10, 15)),
            state("L3-M1", "RUNNING", T(2026, 3, 10, 5), T(2026, 3, 10, 13)),
            state("L3-M1", "UNPLANNED_DOWNTIME", T(2026, 3, 10, 13), T(2026, 3, 10, 15)),
        ],
        LOADED_1,
    )
    # A later batch re-reports the same interval (same machine and start) with a corrected end.
    lake.write_batch(
        "mes_states",
        "mes-2",
        [
            state("L1-M1", "RUNNING", T(2026, 3, 10, 5), T(2026, 3, 10, 11)),
        ],
        LOADED_2,
    )

    count = lambda m, a, b, good, scrap: {  # noqa: E731
        "machine_id": m,
        "start_ts": a,
        "end_ts": b,
        "product_id": "P1",
        "work_order_id": "WO-P",
        "good_qty": good,
        "scrap_qty": scrap,
    }
    lake.write_batch(
        "mes_production",
        "prod-1",
        [
            count("L1-M1", T(2026, 3, 10, 5), T(2026, 3, 10, 21), 1300, 50),
            count("L1-M2", T(2026, 3, 10, 5), T(2026, 3, 10, 21), 1200, 0),
            count("L1-M1", T(2026, 3, 28, 23), T(2026, 3, 29, 22), 2070, 0),
            # 800 parts × 30 s = 6.667 h ideal in 8 h running; 760 good.
            count("L2-M2", T(2026, 3, 10, 5), T(2026, 3, 10, 13), 760, 40),
            count("L3-M1", T(2026, 3, 10, 5), T(2026, 3, 10, 13), 760, 40),
        ],
        LOADED_1,
    )

    wo = lambda wid, m, kind, mode, a, b: {  # noqa: E731
        "work_order_id": wid,
        "machine_id": m,
        "type": kind,
        "failure_mode": mode,
        "reported_ts": a - dt.timedelta(minutes=5),
        "start_ts": a,
        "end_ts": b,
    }
    lake.write_batch(
        "cmms",
        "cmms-1",
        [
            wo(
                "WO1",
                "L1-M1",
                "CORRECTIVE",
                "tool_breakage",
                T(2026, 3, 10, 11),
                T(2026, 3, 10, 12),
            ),
            wo(
                "WO2",
                "L1-M2",
                "CORRECTIVE",
                "bearing_wear",
                T(2026, 3, 10, 10),
                T(2026, 3, 10, 12, 30),
            ),
            wo("WO3", "L1-M1", "PREVENTIVE", None, T(2026, 3, 10, 3), T(2026, 3, 10, 5)),
            wo("WO4", "L1-M2", "CORRECTIVE", "bearing_wear", T(2026, 3, 11, 8), None),  # still open
        ],
        LOADED_1,
    )
    lake.write_batch(
        "cmms",
        "cmms-2",
        [
            wo("WO4", "L1-M2", "CORRECTIVE", "bearing_wear", T(2026, 3, 11, 8), T(2026, 3, 11, 9)),
        ],
        LOADED_2,
    )

    day_a = T(2026, 3, 9, 23)

    def sample(tag, ts, value, quality="GOOD"):
        return {
            "tag": tag,
            "ts": ts,
            "value": value,
            "quality": quality,
        }

    rows = [sample("L1-M1.power", ts, 10.0) for ts in _minutes(day_a, 1440)]
    rows += [sample("L1-M1.temp", ts, 60.0) for ts in _minutes(day_a, 720)]
    rows += [
        sample("L1-M1.temp", ts, 60.0, "BAD")
        for ts in _minutes(day_a + dt.timedelta(hours=12), 100)
    ]
    rows += [sample("L1-M2.power", ts, 5.0) for ts in _minutes(day_a, 1440)]
    rows += [
        sample("L1-M2.power", ts, 6.0) for ts in _minutes(T(2026, 3, 10, 23), 720)
    ]  # half of 03-11
    lake.write_batch("historian", "hist-1", rows, LOADED_1)
    # A re-export of the first hour of L1-M2.power: deduplicated, not counted twice.
    lake.write_batch(
        "historian",
        "hist-2",
        [sample("L1-M2.power", ts, 5.0) for ts in _minutes(day_a, 60)],
        LOADED_2,
    )


def run_dbt_build(tmp_path: Path) -> None:
    """`dbt build` of the whole project against $TWIN_HOME in a subprocess."""
    results = built_results(tmp_path, dbt_build(tmp_path, timeout=120))
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= kinds, kinds


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    """One dbt build for the module (two shared cores: the build is the slow part)."""
    tmp_path = tmp_path_factory.mktemp("dbt_kpis")
    plant = parse_plant(_plant_with_stations_without_sensors(), source="tiny test plant")
    lake = TinyLake(tmp_path / "home", plant, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    build_scenario(lake)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TWIN_HOME", str(lake.home))
        run_dbt_build(tmp_path)
    with duckdb.connect(str(lake.home / "warehouse" / "twin.duckdb"), read_only=True) as con:
        yield con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return {tuple(r[:2]): dict(zip(names, r, strict=True)) for r in cursor.fetchall()}


def _check(row: dict, **expected: float | None) -> None:
    for column, value in expected.items():
        if value is None:
            assert row[column] is None, (column, row[column])
        else:
            assert row[column] == pytest.approx(value, abs=1e-4), (column, row[column], value)


def test_kpi_marts_match_hand_computed_values(warehouse: duckdb.DuckDBPyConnection) -> None:
    machine = _rows(
        warehouse,
        "select machine_id, cast(date as varchar), * from marts.fct_machine_kpis_daily"
        " where line_id = 'L1'",
    )
    line = _rows(
        warehouse, "select line_id, cast(date as varchar), * from marts.fct_line_kpis_daily"
    )

    assert set(machine) == {
        (m, d) for m in ("L1-M1", "L1-M2") for d in ("2026-03-10", "2026-03-11", "2026-03-29")
    }

    # L1-M1 on 03-10: RUNNING 6 h (corrected interval) + 7 h (13-20, IDLE wins 20-21), IDLE 2, SETUP 1,
    # UNPLANNED 1, PLANNED 2, OFF 1 (22-23, the rest of the OFF interval falls on 03-11).
    _check(
        machine["L1-M1", "2026-03-10"],
        planned_busy_hours=17,
        production_hours=13,
        setup_hours=1,
        unplanned_downtime_hours=1,
        planned_downtime_hours=2,
        produced_qty=1350,
        good_qty=1300,
        availability=13 / 17,
        performance=(1350 * 30 / 3600) / 13,
        quality=1300 / 1350,
        oee=(13 / 17) * ((1350 * 30 / 3600) / 13) * (1300 / 1350),
        first_pass_yield=1300 / 1350,
        scrap_rate=50 / 1350,
        energy_kwh=240,
        energy_kwh_per_unit=240 / 1350,
        data_completeness=(1440 + 720) / 2880,
        mtbf_hours=24 - 1,
        mttr_hours=1,
    )
    # L1-M2 on 03-10: a stop nested inside a run: RUNNING 13.5 h, UNPLANNED 2.5 h; 1200 parts × 36 s.
    _check(
        machine["L1-M2", "2026-03-10"],
        planned_busy_hours=16,
        production_hours=13.5,
        unplanned_downtime_hours=2.5,
        availability=13.5 / 16,
        performance=12 / 13.5,
        quality=1,
        oee=0.75,
        energy_kwh=120,
        energy_kwh_per_unit=0.1,
        data_completeness=1,
        mtbf_hours=21.5,
        mttr_hours=2.5,
    )
    # L1-M1 on 03-11: only the 2 h OFF tail crossing midnight: no planned busy time, nothing made.
    _check(
        machine["L1-M1", "2026-03-11"],
        planned_busy_hours=0,
        availability=None,
        oee=None,
        produced_qty=0,
        data_completeness=0,
        energy_kwh=None,
        mtbf_hours=48 - 1,
        mttr_hours=1,
    )
    assert "no planned busy time" in machine["L1-M1", "2026-03-11"]["kpi_note"]
    # L1-M2 on 03-11: historian + CMMS, no MES: MES KPIs null with the reason; reliability and
    # completeness still there (WO4 closed by the second CMMS batch: 1 h).
    _check(
        machine["L1-M2", "2026-03-11"],
        availability=None,
        performance=None,
        quality=None,
        oee=None,
        produced_qty=None,
        planned_busy_hours=None,
        energy_kwh=72,
        energy_kwh_per_unit=None,
        data_completeness=0.5,
        mtbf_hours=(48 - 3.5) / 2,
        mttr_hours=1.75,
    )
    assert "no MES state data for this day" in machine["L1-M2", "2026-03-11"]["kpi_note"]
    # L1-M1 on 2026-03-29 (spring DST change): the day is 23 h, RUNNING all of it.
    _check(
        machine["L1-M1", "2026-03-29"],
        calendar_hours=23,
        production_hours=23,
        planned_busy_hours=23,
        availability=1,
        performance=0.75,
        quality=1,
        oee=0.75,
        produced_qty=2070,
        mtbf_hours=(20 * 24 - 1 - 1) / 1,
        mttr_hours=1,
    )

    # Line rows: OEE, hours and quantities of the output machine (L1-M2); rolled yield; summed energy.
    _check(
        line["L1", "2026-03-10"],
        machine_id=None,
        oee=0.75,
        availability=13.5 / 16,
        produced_qty=1200,
        first_pass_yield=1300 / 1350,
        scrap_rate=50 / 1350,
        energy_kwh=360,
        energy_kwh_per_unit=0.3,
        data_completeness=0.875,
        mtbf_hours=(24 - 3.5) / 2,
        mttr_hours=1.75,
    )
    _check(line["L1", "2026-03-11"], oee=None, availability=None, mtbf_hours=(48 - 4.5) / 3)
    assert "no MES state data" in line["L1", "2026-03-11"]["kpi_note"]

    failures = warehouse.execute(
        "select work_order_id, machine_id, failure_mode, repair_hours, is_open "
        "from marts.fct_failure_events order by work_order_id"
    ).fetchall()
    assert failures == [
        ("WO1", "L1-M1", "tool_breakage", 1.0, False),
        ("WO2", "L1-M2", "bearing_wear", 2.5, False),
        ("WO4", "L1-M2", "bearing_wear", 1.0, False),
    ]
    completeness = _rows(
        warehouse, "select tag, cast(date as varchar), * from marts.fct_tag_completeness_daily"
    )
    _check(
        completeness["L1-M2.power", "2026-03-10"],
        expected_samples=1440,
        samples_received=1440,
        completeness=1,
    )
    _check(
        completeness["L1-M1.temp", "2026-03-10"],
        samples_received=820,
        good_samples=720,
        completeness=0.5,
    )
    _check(completeness["L1-M1.power", "2026-03-29"], expected_samples=23 * 60, completeness=0)


def test_a_station_without_sensors_gets_mes_kpis_and_completeness_not_applicable(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    machine = _rows(
        warehouse, "select machine_id, cast(date as varchar), * from marts.fct_machine_kpis_daily"
    )
    line = _rows(
        warehouse, "select line_id, cast(date as varchar), * from marts.fct_line_kpis_daily"
    )
    mes_kpis = {
        "planned_busy_hours": 10,
        "production_hours": 8,
        "unplanned_downtime_hours": 2,
        "availability": 0.8,
        "performance": (800 * 30 / 3600) / 8,
        "quality": 0.95,
        "oee": 0.8 * ((800 * 30 / 3600) / 8) * 0.95,
        "produced_qty": 800,
        "good_qty": 760,
    }
    # No tags, MES data: the KPIs as usual; completeness null and stated not applicable.
    for machine_id in ("L2-M2", "L3-M1"):
        row = machine[machine_id, "2026-03-10"]
        _check(row, **mes_kpis, data_completeness=None)
        assert row["has_tags"] is False
        assert row["kpi_note"].endswith("no sensors declared: " + NOT_APPLICABLE), row["kpi_note"]
    # No tags and no MES data that day: MES KPIs null with their reason, completeness still n/a.
    row = machine["L3-M1", "2026-03-11"]
    _check(row, availability=None, oee=None, data_completeness=None)
    assert "no MES state data for this day" in row["kpi_note"]
    assert NOT_APPLICABLE in row["kpi_note"]
    # A tag that never delivered a sample: completeness 0, measured, not the statement.
    for date in ("2026-03-10", "2026-03-11", "2026-03-29"):
        row = machine["L2-M1", date]
        _check(row, data_completeness=0)
        assert row["has_tags"] is True
        assert NOT_APPLICABLE not in (row["kpi_note"] or "")

    # L2: the output machine (no sensors) gives the KPIs; completeness over L2-M1 only (0), and the
    # line's note does not repeat the output machine's statement.
    row = line["L2", "2026-03-10"]
    _check(row, **mes_kpis, data_completeness=0)
    assert NOT_APPLICABLE not in row["kpi_note"], row["kpi_note"]
    assert "output machine L2-M2: " in row["kpi_note"]
    # L3: no machine has tags: null and the line's statement.
    for date in ("2026-03-10", "2026-03-11"):
        row = line["L3", date]
        _check(row, data_completeness=None)
        assert (
            "no sensors declared on any machine of the line: " + NOT_APPLICABLE in row["kpi_note"]
        )
    _check(line["L3", "2026-03-10"], **mes_kpis)
    # L1 (all machines with sensors) is unchanged.
    _check(line["L1", "2026-03-10"], data_completeness=0.875)
    assert NOT_APPLICABLE not in (line["L1", "2026-03-10"]["kpi_note"] or "")


def test_published_kpi_daily_with_stations_without_sensors_passes_its_contract(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    kpis = warehouse.execute("select * from publish.kpi_daily").df()
    assert kpis["data_completeness"].isna().any()
    table, check = check_table("kpi_daily", kpis, provisional_stamp())
    assert check.passed, check.failures
    assert table is not None
    # A null completeness on a machine with tags (no statement) blocks the publication.
    broken = kpis.copy()
    tagged = (broken["machine_id"] == "L2-M1").to_numpy()
    broken.loc[tagged, "data_completeness"] = None
    table, check = check_table("kpi_daily", broken, provisional_stamp())
    assert not check.passed
    assert table is None
    assert any(
        f.startswith("expect_column_values_to_not_be_null(data_completeness)")
        for f in check.failures
    ), check.failures
