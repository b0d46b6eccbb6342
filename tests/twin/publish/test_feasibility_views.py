"""Connector views of capacity_feasibility (IBP, Kinaxis, o9) and the Kinaxis capacity view's
partial first week: shapes equal their contracts, keys are unique, the figures are the table's."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from data_contracts import CONNECTOR_VIEWS, load_published_contract
from tests.support.publication import LINEAGE, WEEKS, make_tables
from twin.paths import TwinPaths
from twin.publish.connectors import FEASIBILITY_MEASURES, VIEWS
from twin.publish.versions import publish

FEASIBILITY_VIEWS = (
    "ibp_capacity_feasibility",
    "kinaxis_capacity_feasibility",
    "o9_capacity_feasibility",
)
WEDNESDAY = WEEKS[0] + dt.timedelta(days=2)


def _feasibility_with_overtime() -> dict[str, pd.DataFrame]:
    """make_tables() plus capacity_feasibility rows for the 'overtime' scenario, its second week
    with a P50 of 0 (load ratio null, infeasible)."""
    tables = make_tables()
    baseline = tables["capacity_feasibility"]
    overtime = baseline.copy()
    overtime["scenario_id"] = "overtime"
    overtime["capacity_units_p10"] = [7200.0, 0.0]
    overtime["capacity_units_p50"] = [8000.0, 0.0]
    overtime["capacity_units_p90"] = [8600.0, 0.0]
    overtime["p_meet_demand"] = [0.95, 0.0]
    overtime["shortfall_units_p50"] = [0.0, 7000.0]
    overtime["load_ratio_p50"] = [7000.0 / 8000.0, None]
    overtime["status"] = ["feasible", "infeasible"]
    tables["capacity_feasibility"] = pd.concat([baseline, overtime], ignore_index=True)
    return tables


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.fixture
def catalog(paths: TwinPaths):
    tables = _feasibility_with_overtime()
    publication = publish(paths, tables, LINEAGE)
    with duckdb.connect(str(publication.catalog), read_only=True) as con:
        yield con, tables["capacity_feasibility"], publication


def test_feasibility_views_are_connector_views_with_their_contracts(catalog) -> None:
    con, _, publication = catalog
    assert set(FEASIBILITY_VIEWS) <= set(CONNECTOR_VIEWS) <= set(VIEWS)
    listed = dict(_rows(con, "select name, contract_version from _publication where kind = 'view'"))
    version_dir = publication.catalog.parent / "versions" / publication.publication_id
    for view in FEASIBILITY_VIEWS:
        contract = load_published_contract(view)
        assert contract["view_of"] == "capacity_feasibility"
        assert listed[view] == contract["version"]
        parquet = pq.read_table(version_dir / f"{view}.parquet")
        assert parquet.column_names == list(contract["columns"]), view
        assert parquet.num_rows == _rows(con, f"select count(*) from {view}")[0][0]
        described = _rows(con, f"describe {view}")
        assert [(r[0], r[1].lower()) for r in described] == [
            (c, s["type"]) for c, s in contract["columns"].items()
        ], view
        key = ", ".join(f'"{k}"' for k in contract["key"])
        dupes = _rows(
            con, f"select count(*) from (select {key} from {view} group by all having count(*) > 1)"
        )
        assert dupes == [(0,)], view
        for column, spec in contract["columns"].items():
            if spec.get("required"):
                nulls = _rows(con, f'select count(*) from {view} where "{column}" is null')
                assert nulls == [(0,)], (view, column)
            if "allowed" in spec:
                values = {v for (v,) in _rows(con, f'select distinct "{column}" from {view}')}
                assert values <= set(spec["allowed"]), (view, column)


def test_ibp_view_carries_the_baseline_figures_per_line_week(catalog) -> None:
    con, feasibility, _ = catalog
    baseline = feasibility[feasibility["scenario_id"] == "baseline"]
    rows = con.execute(
        'select * from ibp_capacity_feasibility order by "PERIODID_TSTAMP"'
    ).fetchdf()
    assert len(rows) == len(baseline) == 2
    for (_, got), (_, want) in zip(rows.iterrows(), baseline.iterrows(), strict=True):
        assert got["RESID"] == want["line_id"] == "L1"
        assert got["LOCID"] == want["site_id"]
        monday = dt.datetime.combine(want["bucket_start"], dt.time())
        assert got["PERIODID_TSTAMP"].to_pydatetime() == monday
        assert got["PLANVERSION"] == want["plan_version"]
        assert got["DEMANDQTY"] == want["demand_units"]
        assert got["CAPASUPPLY"] == want["capacity_units_p50"]
        assert got["CAPASUPPLYDOWNSIDE"] == want["capacity_units_p10"]
        assert got["CAPASUPPLYUPSIDE"] == want["capacity_units_p90"]
        assert got["PMEETDEMAND"] == want["p_meet_demand"]
        assert got["SHORTFALLQTY"] == want["shortfall_units_p50"]
        assert got["LOADRATIO"] == pytest.approx(want["load_ratio_p50"])
        assert got["FEASSTATUS"] == want["status"]
    # Only the baseline: the overtime scenario's infeasible week is not in IBP.
    assert _rows(con, 'select distinct "FEASSTATUS" from ibp_capacity_feasibility') == [
        ("at_risk",)
    ]


def test_kinaxis_view_has_every_scenario_with_weekly_totals(catalog) -> None:
    con, feasibility, _ = catalog
    rows = _rows(
        con,
        'select "Scenario", "EffectiveInDate", "EffectiveOutDate", "PlanVersion", "Demand",'
        ' "CapacityP10", "CapacityP50", "CapacityP90", "ProbabilityMeetDemand", "Shortfall",'
        ' "LoadRatio", "Status" from kinaxis_capacity_feasibility'
        " where \"Constraint\" = 'L1' and \"Site\" = 'S1' order by 1, 2",
    )
    want = [
        (
            r.scenario_id,
            r.bucket_start,
            r.bucket_end,
            r.plan_version,
            r.demand_units,
            r.capacity_units_p10,
            r.capacity_units_p50,
            r.capacity_units_p90,
            r.p_meet_demand,
            r.shortfall_units_p50,
            None if pd.isna(r.load_ratio_p50) else r.load_ratio_p50,
            r.status,
        )
        for r in feasibility.sort_values(["scenario_id", "bucket_start"]).itertuples()
    ]
    assert rows == want
    assert {r[0] for r in rows} == {"baseline", "overtime"}
    assert all(out - start == dt.timedelta(days=7) for _, start, out, *_ in rows)


def test_o9_view_has_the_seven_measures_per_baseline_line_week(catalog) -> None:
    con, feasibility, _ = catalog
    rows = _rows(
        con,
        'select "Resource", "Location", "Time", "Measure", "Value" from o9_capacity_feasibility',
    )
    baseline = feasibility[feasibility["scenario_id"] == "baseline"]
    assert len(rows) == len(baseline) * 7
    got = {(r, loc, t, m): v for r, loc, t, m, v in rows}
    for r in baseline.itertuples():
        for measure, column in FEASIBILITY_MEASURES.items():
            value = got[(r.line_id, r.site_id, r.bucket_start, measure)]
            assert value == pytest.approx(getattr(r, column)), measure
    assert sorted({m for *_, m, _ in rows}) == sorted(
        load_published_contract("o9_capacity_feasibility")["columns"]["Measure"]["allowed"]
    )
    assert got[("L1", "S1", WEEKS[0], "Demand")] == 7000.0
    assert got[("L1", "S1", WEEKS[1], "P(Meet Demand)")] == 0.6


def test_o9_view_leaves_out_the_load_ratio_where_it_is_null() -> None:
    tables = _feasibility_with_overtime()
    feasibility = tables["capacity_feasibility"]
    feasibility["scenario_id"] = ["other", "other", "baseline", "baseline"]  # overtime as baseline
    with duckdb.connect() as con:
        con.register("capacity_feasibility", feasibility)
        rows = _rows(con, VIEWS["o9_capacity_feasibility"])
    measures = [(t, m) for _, _, t, m, _ in rows]
    assert len(rows) == 7 + 6
    assert (WEEKS[1], "Load Ratio P50") not in measures
    assert (WEEKS[0], "Load Ratio P50") in measures
    assert all(v is not None for *_, v in rows)


# --- kinaxis_constraint_available: the horizon's partial first week ---------------------------


def _partial_first_week(covered_from_at: dt.datetime):
    """make_tables() with the first week partial from ``covered_from_at`` (naive UTC)."""
    tables = make_tables()
    supply = tables["capacity_supply"]
    first = supply["bucket_start"] == WEEKS[0]
    supply.loc[first, "is_partial"] = True
    supply.loc[first, "covered_from_at"] = covered_from_at
    return tables


def _kinaxis(con: duckdb.DuckDBPyConnection, scenario: str, week: dt.date) -> list[tuple]:
    return _rows(
        con,
        'select "EffectiveInDate", "EffectiveOutDate", "Rate" from kinaxis_constraint_available'
        f" where \"Constraint\" = 'L1' and \"Scenario\" = '{scenario}'"
        f" and \"EffectiveOutDate\" = date '{week + dt.timedelta(days=7)}'",
    )


def _p50(tables: dict[str, pd.DataFrame], scenario: str, week: dt.date) -> float:
    supply = tables["capacity_supply"]
    row = supply[
        (supply["resource_id"] == "L1")
        & (supply["scenario_id"] == scenario)
        & (supply["quantile"] == "p50")
        & (supply["bucket_start"] == week)
    ]
    return float(row["capacity_units"].iloc[0])


def test_kinaxis_partial_first_week_starts_at_the_covered_day(paths: TwinPaths) -> None:
    tables = _partial_first_week(dt.datetime.combine(WEDNESDAY, dt.time(10, 30)))
    publication = publish(paths, tables, LINEAGE)
    with duckdb.connect(str(publication.catalog), read_only=True) as con:
        for scenario in ("baseline", "overtime"):
            capacity = _p50(tables, scenario, WEEKS[0])
            [(start, end, rate)] = _kinaxis(con, scenario, WEEKS[0])
            assert start == WEDNESDAY
            assert end == WEEKS[1]
            assert rate == pytest.approx(capacity / 5)  # Wednesday to Sunday
            assert rate * (end - start).days == pytest.approx(capacity)
            # The whole week after it is unchanged: from its Monday, a seventh per day.
            [(start, end, rate)] = _kinaxis(con, scenario, WEEKS[1])
            assert (start, end) == (WEEKS[1], WEEKS[1] + dt.timedelta(days=7))
            assert rate == pytest.approx(_p50(tables, scenario, WEEKS[1]) / 7)
        assert _rows(con, "select count(*) from kinaxis_constraint_available") == [(4,)]


def test_kinaxis_partial_week_takes_the_site_local_date_not_the_utc_one() -> None:
    # Europe/Berlin in November: local midnight is 23:00 UTC the day before. The last data time
    # Wednesday 00:30 local is Tuesday 23:30 UTC; the horizon covers Wednesday to Sunday.
    utc_tuesday = dt.datetime.combine(WEDNESDAY, dt.time()) - dt.timedelta(minutes=30)
    tables = _partial_first_week(utc_tuesday)
    capacity = _p50(tables, "baseline", WEEKS[0])
    with duckdb.connect() as con:
        # with day buckets (what the engine writes): the week's first day is the covered date
        supply = tables["capacity_supply"]
        line_week = supply[(supply["resource_id"] == "L1") & (supply["bucket_start"] == WEEKS[0])]
        days = []
        for offset in range(5):
            day = line_week.copy()
            day["bucket_grain"] = "day"
            day["bucket_start"] = WEDNESDAY + dt.timedelta(days=offset)
            day["bucket_end"] = day["bucket_start"] + dt.timedelta(days=1)
            days.append(day)
        con.register("capacity_supply", pd.concat([line_week, *days], ignore_index=True))
        con.execute(
            f"create view kinaxis_constraint_available as {VIEWS['kinaxis_constraint_available']}"
        )
        assert _kinaxis(con, "baseline", WEEKS[0]) == [
            (WEDNESDAY, WEEKS[1], pytest.approx(capacity / 5))
        ]
        # neither (not what the engine writes): the UTC date is the last resort, a day early here
        con.unregister("capacity_supply")
        con.register("capacity_supply", line_week)
        assert _kinaxis(con, "baseline", WEEKS[0]) == [
            (WEDNESDAY - dt.timedelta(days=1), WEEKS[1], pytest.approx(capacity / 6))
        ]
