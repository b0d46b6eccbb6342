"""Capacity report: every section from the published columns, numbers shown, text escaped, nothing
fetched from the network, the accuracy section without actuals, and the live/version copies."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from data_contracts import load_published_contract
from twin.paths import TwinPaths
from twin.publish.report.charts import nice_ticks
from twin.publish.report.page import build_report, write_report
from twin.publish.versions import Publication

MONDAY = dt.date(2026, 11, 23)
WEEKS = [MONDAY + dt.timedelta(weeks=i) for i in range(13)]
EVIL = "<script>alert('x')</script>"
MANIFEST = {
    "publication_id": "20261123T031500Z-abc123",
    "published_at": "2026-11-23T03:15:00.000000Z",
    "model_version": "failure_model v7",
    "scenario_set": ["baseline", "overtime"],
    "data": {"window": {"start": "2026-10-01", "end": "2026-11-22"}},
}


def _rows(name: str, rows: list[dict]) -> pd.DataFrame:
    """A frame with exactly the contract's columns, so the report is tested on the published shape."""
    columns = list(load_published_contract(name)["columns"])
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)


def make_tables() -> dict[str, pd.DataFrame]:
    """Two lines, 13 weeks, baseline and overtime (+10%); L2's first week is cut to 3 days."""
    capacity = []
    for line, base in (("L1", 9000.0), ("L2", 5000.0)):
        for scenario, factor in (("baseline", 1.0), ("overtime", 1.1)):
            for i, week in enumerate(WEEKS):
                days = 3 if line == "L2" and i == 0 else 7
                for quantile, q in (("p10", 0.9), ("p50", 1.0), ("p90", 1.05)):
                    capacity.append(
                        {
                            "site_id": "S&1",
                            "line_id": line,
                            "resource_id": line,
                            "resource_level": "line",
                            "bucket_grain": "week",
                            "bucket_start": week,
                            "bucket_end": week + dt.timedelta(days=days),
                            "scenario_id": scenario,
                            "quantile": quantile,
                            "capacity_units": base * factor * q * days / 7,
                            "uom": "parts",
                        }
                    )
    constraint = [
        {"site_id": "S&1", "line_id": "L1", "scenario_id": "baseline", "bucket_grain": "week",
         "bucket_start": week, "bucket_end": week + dt.timedelta(days=7), "machine_id": m,
         "bottleneck_share": share, "rank": rank}
        for week in WEEKS
        for m, share, rank in ((EVIL, 0.62, 1), ("L1-M1", 0.38, 2))
    ]  # fmt: skip
    risk = [
        {"site_id": "S&1", "machine_id": m, "as_of": dt.datetime(2026, 11, 22, 23), "p_failure_72h": p,
         "hours_to_failure_p10": 12.0, "hours_to_failure_p50": h50, "hours_to_failure_p90": 400.0,
         "failure_mode": mode, "model_version": "failure_model v7", "risk_drivers": why,
         "driver_1": why and why.split()[0]}
        for m, p, h50, mode, why in (
            ("L1-M1", 0.05, 900.0, None, None),
            ("L2-M3", 0.875, 31.0, "bearing & seal", "vibration_mean_24h +4.1σ (Δp +0.62); <b>x"),
        )
    ]  # fmt: skip
    kpi = [
        {"site_id": "S&1", "line_id": "L1", "machine_id": None, "date": MONDAY - dt.timedelta(days=d),
         "availability": 0.9, "performance": 0.95, "quality": 0.98, "oee": 0.8379,
         "data_completeness": 0.8 if d == 1 else 1.0}
        for d in range(1, 11)
    ]  # fmt: skip
    return {
        "capacity_supply": _rows("capacity_supply", capacity),
        "constraint_map": _rows("constraint_map", constraint),
        "machine_failure_risk": _rows("machine_failure_risk", risk),
        "kpi_daily": _rows("kpi_daily", kpi),
    }


def accuracy_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_id": ["L1", "L1"],
            "week_start": [MONDAY - dt.timedelta(weeks=2), MONDAY - dt.timedelta(weeks=1)],
            "published_p10": [8100.0, 8100.0],
            "published_p50": [9000.0, 9000.0],
            "published_p90": [9450.0, 9450.0],
            "actual_units": [8820.0, 7650.0],
            "error_pct": [-0.02, -0.15],  # shares, as the accuracy contract defines them
            "inside_band": [True, False],
        }
    )


@pytest.fixture(scope="module")
def page() -> str:
    return build_report(make_tables(), MANIFEST, None)


def _section(page: str, element_id: str) -> str:
    match = re.search(rf'<section id="{element_id}">(.*?)</section>', page, re.S)
    assert match, f"section {element_id} missing"
    return match.group(1)


def test_every_section_has_its_stable_id(page: str) -> None:
    for element_id in (
        "capacity-fan-L1",
        "capacity-fan-L2",
        "scenario-comparison",
        "bottlenecks",
        "machines-at-risk",
        "why-at-risk",
        "data-completeness",
        "forecast-accuracy",
    ):
        assert f'id="{element_id}"' in page


def test_header_names_the_publication_and_its_lineage(page: str) -> None:
    header = page.split("</header>")[0]
    for fact in ("S&amp;1", "20261123T031500Z-abc123", "2026-11-23 03:15:00", "failure_model v7"):
        assert fact in header
    assert "2026-10-01 to 2026-11-22" in header
    assert "baseline, overtime" in header


def test_fan_chart_is_an_accessible_svg_band_with_a_median_line(page: str) -> None:
    svg = re.search(r'<svg id="capacity-fan-L1".*?</svg>', page, re.S).group(0)
    assert '<title id="capacity-fan-L1-title">Line L1' in svg
    assert "<polygon" in svg
    assert "<polyline" in svg
    assert svg.count("<circle") == 13
    assert "23 Nov" in svg  # first week label on the x axis
    assert "parts / week" in svg
    # Tooltips carry the numbers: P10 8,100, P50 9,000, P90 9,450.
    assert "P10 8,100, P50 9,000, P90 9,450 parts" in svg


def test_partial_week_is_marked_and_left_out_of_the_scenario_mean(page: str) -> None:
    assert "partial week, 3 days" in page
    table = _section(page, "scenario-comparison")
    # L2's 3-day week would pull the mean below 5,000 if it counted.
    assert "<td>5,000</td>" in table
    assert "5,500" in table
    assert "(+10.0%)" in table


def test_bottlenecks_rank_machines_by_share(page: str) -> None:
    section = _section(page, "bottlenecks")
    assert "62%" in section
    assert "38%" in section
    assert section.index("62%") < section.index("38%")


def test_machines_at_risk_are_sorted_by_probability(page: str) -> None:
    section = _section(page, "machines-at-risk")
    assert section.index("L2-M3") < section.index("L1-M1")
    assert "87.5%" in section
    assert 'class="high"' in section
    assert "bearing &amp; seal" in section
    assert '<th scope="col"' in section


def test_why_at_risk_lists_each_machines_drivers_riskiest_first_and_escaped(page: str) -> None:
    section = _section(page, "why-at-risk")
    assert section.index("L2-M3") < section.index("L1-M1")
    assert "vibration_mean_24h +4.1σ (Δp +0.62)" in section
    assert "<b>x" not in section
    assert "&lt;b&gt;x" in section
    assert "Scored by failure_model v7" in section


def test_why_at_risk_says_when_a_publication_predates_the_drivers() -> None:
    # Regression guard: a version published under contract 1.0.0 has no driver columns; its
    # report must still build (old versions stay readable) and say why the section is empty.
    tables = make_tables()
    tables["machine_failure_risk"] = tables["machine_failure_risk"].drop(
        columns=["risk_drivers", "driver_1", "driver_2", "driver_3"]
    )
    section = _section(build_report(tables, MANIFEST, None), "why-at-risk")
    assert "predates the risk drivers" in section


def test_data_completeness_shows_the_last_seven_line_days(page: str) -> None:
    section = _section(page, "data-completeness")
    assert section.count("<tr>") + section.count("<tr ") == 1 + 7  # header + 7 days
    assert "2026-11-22" in section
    assert "2026-11-15" not in section  # eighth day back
    assert '<td class="low-data">80.0%</td>' in section
    assert "83.8%" in section  # OEE


def test_accuracy_without_actuals_says_so_plainly(page: str) -> None:
    assert "No actuals yet for a published week." in _section(page, "forecast-accuracy")
    empty = build_report(make_tables(), MANIFEST, accuracy_frame().iloc[0:0])
    assert "No actuals yet for a published week." in empty


def test_accuracy_with_actuals_lists_each_line_week() -> None:
    section = _section(build_report(make_tables(), MANIFEST, accuracy_frame()), "forecast-accuracy")
    assert "1 of 2 line-weeks fell inside" in section
    assert "8.5%" in section  # mean absolute error of (-2, -15)
    assert "-15.0%" in section
    assert "7,650" in section


def test_text_from_the_data_is_escaped(page: str) -> None:
    assert EVIL not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_page_loads_nothing_from_elsewhere(page: str) -> None:
    # Planners open it from a file share with no internet: no CDN, no fonts, no scripts at all.
    assert not re.search(r"https?://", page)
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page
    assert page.startswith("<!DOCTYPE html>")
    # And the browser is told to refuse anything from elsewhere.
    assert "Content-Security-Policy\" content=\"default-src 'none'" in page


def test_axis_ticks_are_round_and_cover_the_top() -> None:
    assert nice_ticks(9450 * 1.05) == [0, 2000, 4000, 6000, 8000, 10000]
    assert nice_ticks(0) == [0.0, 1.0]


def _version(root: Path, tables: dict[str, pd.DataFrame], pid: str) -> Publication:
    folder = root / "versions" / pid
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet")
    return Publication(pid, "2026-11-23T03:15:00Z", folder, root / "catalog.duckdb", MANIFEST)


def test_write_report_keeps_the_first_copy_in_the_version_and_replaces_the_live_page(
    tmp_path: Path,
) -> None:
    paths = TwinPaths(tmp_path).ensure()
    publication = _version(paths.published, make_tables(), MANIFEST["publication_id"])
    live = write_report(paths, publication)
    kept = publication.version_dir / "report.html"
    assert live.read_text() == kept.read_text()
    rolled_back = {**MANIFEST, "switch": {"kind": "rollback", "at": "2026-11-24T08:00:00Z"}}
    write_report(paths, Publication(**{**publication.__dict__, "manifest": rolled_back}))
    assert "rollback at 2026-11-24 08:00:00" in live.read_text()
    assert "rollback" not in kept.read_text()  # the version's copy is as first published
    assert not list(paths.published.glob(".*.tmp"))


def test_a_report_that_cannot_be_built_does_not_fail_the_switch(tmp_path: Path) -> None:
    paths = TwinPaths(tmp_path).ensure()
    tables = make_tables()
    del tables["kpi_daily"]
    live = write_report(paths, _version(paths.published, tables, "20261123T031500Z-bad000"))
    assert "Capacity report unavailable" in live.read_text()
    assert "20261123T031500Z-bad000" in live.read_text()


def test_the_live_report_is_refreshed_with_the_latest_backtest(tmp_path) -> None:
    from tests.support.publication import LINEAGE
    from tests.support.publication import make_tables as publication_tables
    from twin.paths import TwinPaths
    from twin.publish.versions import publish, refresh_report

    paths = TwinPaths(tmp_path / "home").ensure()
    publish(paths, publication_tables(), LINEAGE)
    live = paths.published / "report.html"
    assert "No actuals yet" in live.read_text()
    accuracy_frame().to_parquet(paths.published / "capacity_forecast_accuracy.parquet")
    refresh_report(paths)
    assert "1 of 2 line-weeks fell inside" in live.read_text()


def _effect_rows() -> pd.DataFrame:
    rows = [
        {"site_id": "S&1", "line_id": "L1", "scenario_id": "baseline", "bucket_grain": "week",
         "bucket_start": week, "bucket_end": week + dt.timedelta(days=7), "is_partial": i == 0,
         "uom": "parts", "machines_with_risk": 2, "capacity_p50_with_risk": p50 + diff,
         "capacity_p50_history_only": p50, "p50_difference_units": diff,
         "p50_difference_share": diff / p50, "capacity_p10_with_risk": 0.9 * (p50 + diff),
         "capacity_p10_history_only": 0.9 * p50}
        for i, (week, p50, diff) in enumerate(
            zip(WEEKS[:6], [9000.0] * 6, [-450.0, -90.0, 20.0, 0.0, 0.0, 0.0], strict=True)
        )
    ]  # fmt: skip
    return _rows("prediction_effect", rows)


def test_the_prediction_effect_section_shows_what_the_risk_changed() -> None:
    tables = make_tables()
    tables["prediction_effect"] = _effect_rows()
    section = _section(build_report(tables, MANIFEST, None), "prediction-effect")
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    assert len(rows) == 4  # the first four weeks of the line
    first = re.sub(r"<[^>]+>", "|", rows[0])
    assert "2026-11-23*" in first  # the partial first week says so
    assert "8,550" in first
    assert "9,000" in first
    assert "-450 (-5.0%)" in first
    assert '<span class="down">-450 (-5.0%)</span>' in rows[0]
    assert '<span class="muted">-90 (-1.0%)</span>' in rows[1]  # within the noise (2 %): muted
    assert '<span class="muted">20 (+0.2%)</span>' in rows[2]


def test_a_version_without_the_effect_table_still_gets_a_report() -> None:
    page = build_report(make_tables(), MANIFEST, None)  # no prediction_effect, as before 1.0.0
    assert "No prediction effect in this publication" in _section(page, "prediction-effect")


def test_a_week_flagged_partial_is_marked_even_with_seven_days() -> None:
    tables = make_tables()
    cap = tables["capacity_supply"]
    cap["is_partial"] = (cap["line_id"] == "L1") & (cap["bucket_start"] == MONDAY)
    section = _section(build_report(tables, MANIFEST, None), "capacity")
    assert "2026-11-23*" in section.split('id="capacity-fan-L2"')[0]


def _feasibility_rows() -> pd.DataFrame:
    """L1 week 2 overloaded in the baseline, met with overtime; every other line-week feasible."""
    rows = []
    for scenario in ("baseline", "overtime"):
        for line in ("L1", "L2"):
            for i, week in enumerate(WEEKS[1:4]):
                tight = line == "L1" and i == 0
                p_meet = (0.2 if scenario == "baseline" else 0.93) if tight else 1.0
                status = "infeasible" if p_meet < 0.5 else "feasible"
                rows.append(
                    {
                        "site_id": "S&1",
                        "line_id": line,
                        "bucket_grain": "week",
                        "bucket_start": week,
                        "bucket_end": week + dt.timedelta(days=7),
                        "scenario_id": scenario,
                        "plan_version": EVIL,
                        "demand_units": 9500.0 if tight else 1000.0,
                        "split_demand_units": 0.0,
                        "capacity_units_p10": 8100.0,
                        "capacity_units_p50": 9000.0,
                        "capacity_units_p90": 9450.0,
                        "p_meet_demand": p_meet,
                        "shortfall_units_p50": 500.0 if tight else 0.0,
                        "load_ratio_p50": 9500 / 9000 if tight else 0.1,
                        "status": status,
                    }
                )
    return _rows("capacity_feasibility", rows)


def test_the_planners_section_lists_overloaded_weeks_first_with_the_best_scenario() -> None:
    tables = make_tables()
    tables["capacity_feasibility"] = _feasibility_rows()
    page = build_report(tables, MANIFEST, None)
    section = _section(page, "feasibility")
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    first = re.sub(r"<[^>]+>", "|", rows[0])
    assert "L1" in first
    assert "2026-11-30" in first
    assert "9,500" in first
    assert "8,100 / 9,000 / 9,450" in first
    assert "20%" in first
    assert "overtime: 93% (feasible)" in first
    assert '<span class="down">infeasible</span>' in rows[0]
    assert len(rows) == 6  # the baseline's six line-weeks, not the other scenario's
    assert "1 infeasible, 0 at risk, 5 feasible" in section
    assert EVIL not in page  # the plan version comes from the planning system: escaped


def test_without_a_demand_plan_the_section_says_how_to_land_one() -> None:
    section = _section(build_report(make_tables(), MANIFEST, None), "feasibility")
    assert "No demand plan in this publication" in section
