"""Published-table contracts: DESIGN columns, agreement with the dbt contracts, the version lock rule,
and GX suites that load strictly and catch bad values."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import data_contracts
from data_contracts import (
    CONNECTOR_VIEWS,
    PUBLISHED_TABLES,
    column_signature,
    load_contract_lock,
    load_published_contract,
    load_suite,
    lock_violations,
)
from data_contracts.validation import run_suite
from tests.support.publication import make_tables

DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "publish"
TYPES = {"varchar", "double", "integer", "bigint", "date", "timestamp", "boolean"}

# DESIGN §3.4, the stable interface, column for column.
DESIGN_COLUMNS = {
    "capacity_supply": [
        "site_id", "line_id", "resource_id", "resource_level", "bucket_grain", "bucket_start",
        "bucket_end", "scenario_id", "quantile", "calendar_hours", "planned_downtime_hours",
        "expected_unplanned_downtime_hours", "available_hours", "capacity_units", "uom",
        "rate_units_per_hour", "bottleneck_share", "model_version", "publication_id", "published_at",
    ],
    "machine_failure_risk": [
        "site_id", "machine_id", "as_of", "p_failure_72h", "hours_to_failure_p10",
        "hours_to_failure_p50", "hours_to_failure_p90", "failure_mode", "model_version",
    ],
    "kpi_daily": [
        "site_id", "line_id", "machine_id", "date", "availability", "performance", "quality", "oee",
        "planned_busy_hours", "production_hours", "unplanned_downtime_hours", "produced_qty",
        "good_qty", "mtbf_hours", "mttr_hours", "energy_kwh_per_unit", "first_pass_yield",
        "scrap_rate", "data_completeness",
    ],
    "constraint_map": [
        "site_id", "line_id", "scenario_id", "bucket_grain", "bucket_start", "bucket_end",
        "machine_id", "bottleneck_share", "rank",
    ],
    "ibp_capasupply": ["RESID", "LOCID", "PERIODID_TSTAMP", "CAPASUPPLY", "VERSIONID"],
    "kinaxis_constraint_available": [
        "Constraint", "Site", "EffectiveInDate", "EffectiveOutDate", "Rate", "Scenario",
    ],
    "o9_resource_capacity": ["Resource", "Location", "Time", "Measure", "Value"],
    # DESIGN §3.5: "connector views carry the same figures" as capacity_feasibility
    "ibp_capacity_feasibility": [
        "RESID", "LOCID", "PERIODID_TSTAMP", "PLANVERSION", "DEMANDQTY", "CAPASUPPLY",
        "CAPASUPPLYDOWNSIDE", "CAPASUPPLYUPSIDE", "PMEETDEMAND", "SHORTFALLQTY", "LOADRATIO",
        "FEASSTATUS",
    ],
    "kinaxis_capacity_feasibility": [
        "Constraint", "Site", "EffectiveInDate", "EffectiveOutDate", "Scenario", "PlanVersion",
        "Demand", "CapacityP10", "CapacityP50", "CapacityP90", "ProbabilityMeetDemand",
        "Shortfall", "LoadRatio", "Status",
    ],
    "o9_capacity_feasibility": ["Resource", "Location", "Time", "Measure", "Value"],
    # not in DESIGN §3.4: its own contract (issue 11), held to the same rules
    "prediction_effect": [
        "site_id", "line_id", "scenario_id", "bucket_grain", "bucket_start", "bucket_end",
        "is_partial", "uom", "machines_with_risk", "capacity_p50_with_risk",
        "capacity_p50_history_only", "p50_difference_units", "p50_difference_share",
        "capacity_p10_with_risk", "capacity_p10_history_only", "model_version",
    ],
    # DESIGN §3.5, the optional assumed-capacity columns after publication_id
    "capacity_feasibility": [
        "site_id", "line_id", "bucket_grain", "bucket_start", "bucket_end", "scenario_id",
        "plan_version", "demand_units", "capacity_units_p10", "capacity_units_p50",
        "capacity_units_p90", "p_meet_demand", "shortfall_units_p50", "load_ratio_p50", "status",
        "publication_id", "assumed_capacity_units", "gap_vs_assumed_pct",
    ],
}  # fmt: skip


def _dbt_models() -> dict[str, dict]:
    documents = [yaml.safe_load(p.read_text()) for p in DBT_MODELS.glob("_*__models.yml")]
    return {m["name"]: m for doc in documents for m in doc.get("models", [])}


@pytest.mark.parametrize("name", [*PUBLISHED_TABLES, *CONNECTOR_VIEWS])
def test_contract_is_complete_and_keeps_the_design_columns(name: str) -> None:
    contract = load_published_contract(name)
    assert {"owner", "grain", "key", "freshness", "version", "columns", "description"} <= set(
        contract
    )
    assert contract["kind"] == "published"
    assert contract["freshness"]["max_age_days"] <= 8  # weekly S&OP plus a day of slack
    for column, spec in contract["columns"].items():
        assert spec["type"] in TYPES, (column, spec)
        assert spec.get("description"), column
        if column.endswith("_hours"):
            assert spec.get("unit") == "h", column
    assert set(contract["key"]) <= set(contract["columns"])
    # Extra columns only as documented extensions, appended after the DESIGN columns.
    extensions = contract.get("extensions", [])
    assert list(contract["columns"]) == DESIGN_COLUMNS[name] + extensions


@pytest.mark.parametrize("name", PUBLISHED_TABLES)
def test_contract_equals_the_enforced_dbt_contract(name: str) -> None:
    contract = load_published_contract(name)
    model = _dbt_models()[name]
    config = model["config"]
    assert config["contract"] == {"enforced": True}
    assert config["materialized"] == "table"
    assert config["schema"] == "publish"
    assert str(config["meta"]["contract_version"]) == contract["version"]
    dbt_columns = [(c["name"], c["data_type"].lower()) for c in model["columns"]]
    assert dbt_columns == [(c, s["type"]) for c, s in contract["columns"].items()]


@pytest.mark.parametrize("name", PUBLISHED_TABLES)
def test_suite_loads_strictly_and_names_only_contract_columns(name: str) -> None:
    contract = load_published_contract(name)
    assert contract["suite"] == f"published_{name}"
    suite = load_suite(contract["suite"])
    raw = json.loads((data_contracts.SUITES_DIR / f"published_{name}.json").read_text())
    assert len(suite.expectations) == len(raw["expectations"])
    for entry in raw["expectations"]:
        kwargs = entry["kwargs"]
        named = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
        named += kwargs.get("column_list", [])
        assert {c for c in named if c} <= set(contract["columns"]), entry


def test_risk_suite_rejects_probabilities_outside_0_1_and_unordered_quantiles() -> None:
    frame = pd.DataFrame(
        {
            "site_id": ["S", "S"],
            "machine_id": ["m1", "m2"],
            "as_of": [dt.datetime(2026, 1, 1)] * 2,
            "p_failure_72h": [0.2, 1.3],
            "hours_to_failure_p10": [10.0, 50.0],
            "hours_to_failure_p50": [20.0, 40.0],
            "hours_to_failure_p90": [30.0, 60.0],
            "failure_mode": ["x", None],
            "model_version": ["v1", "v1"],
            "publication_id": ["p", "p"],
        }
    )
    outcome = run_suite(frame, load_suite("published_machine_failure_risk"))
    assert not outcome.success
    assert any(
        f.startswith("expect_column_values_to_be_between(p_failure_72h)") for f in outcome.failed
    )
    assert any("(hours_to_failure_p50, hours_to_failure_p10)" in f for f in outcome.failed)


# --- the version lock ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*PUBLISHED_TABLES, *CONNECTOR_VIEWS])
def test_every_current_contract_version_is_locked_with_its_columns(name: str) -> None:
    contract = load_published_contract(name)
    lock = load_contract_lock()
    assert lock_violations(contract, lock) == []
    assert lock[name][contract["version"]] == column_signature(contract), (
        f"{name} {contract['version']} is not in data_contracts/published/contract_lock.json"
    )


def _changed(version: str, edit) -> dict:
    contract = copy.deepcopy(load_published_contract("capacity_supply"))
    contract["version"] = version
    edit(contract["columns"])
    return contract


def _drop(columns: dict) -> None:
    del columns["uom"]


def _rename(columns: dict) -> None:
    columns["unit_of_measure"] = columns.pop("uom")


def _retype(columns: dict) -> None:
    columns["capacity_units"]["type"] = "bigint"


def _relax(columns: dict) -> None:
    columns["available_hours"]["required"] = False


def _add_optional(columns: dict) -> None:
    columns["overtime_hours"] = {
        "type": "double",
        "required": False,
        "unit": "h",
        "description": "x",
    }


@pytest.mark.parametrize("edit", [_drop, _rename, _retype, _relax])
def test_a_breaking_change_without_a_major_bump_fails_the_lock(edit) -> None:
    lock = load_contract_lock()
    for version in ("1.0.0", "1.1.0", "1.0.1"):
        assert lock_violations(_changed(version, edit), lock), (edit.__name__, version)
    assert lock_violations(_changed("2.0.0", edit), lock) == []


def test_adding_an_optional_column_needs_a_minor_bump() -> None:
    lock = load_contract_lock()
    # Same version, different columns: a locked version never changes.
    assert lock_violations(_changed("1.0.0", _add_optional), lock)
    assert lock_violations(_changed("1.0.1", _add_optional), lock)
    assert lock_violations(_changed("1.1.0", _add_optional), lock)  # 1.1.0 is locked now
    assert lock_violations(_changed("1.2.0", _add_optional), lock) == []
    assert lock_violations(_changed("2.0.0", _add_optional), lock) == []


def test_a_version_going_backwards_fails_the_lock() -> None:
    lock = copy.deepcopy(load_contract_lock())
    current = load_published_contract("capacity_supply")
    lock["capacity_supply"]["2.0.0"] = column_signature(current)
    assert lock_violations(_changed("1.5.0", _add_optional), lock)


# --- kpi_daily: completeness not applicable (stations without sensors, DESIGN §3.2) -----------

NO_SENSORS = "no sensors declared: data completeness not applicable"
NO_SENSORS_LINE = "no sensors declared on any machine of the line: data completeness not applicable"


def _kpi_frame(rows: list[tuple[str, str | None, float | None, str | None]]) -> pd.DataFrame:
    """kpi_daily rows (line_id, machine_id, data_completeness, kpi_note), the other KPIs filled."""
    template = make_tables()["kpi_daily"].iloc[0].to_dict()
    return pd.DataFrame(
        [
            {
                **template,
                "line_id": line_id,
                "machine_id": machine_id,
                "energy_kwh_per_unit": None,
                "data_completeness": completeness,
                "kpi_note": note,
            }
            for line_id, machine_id, completeness, note in rows
        ]
    )


def _kpi_check(frame: pd.DataFrame):
    from twin.publish.table_checks import check_table, provisional_stamp

    return check_table("kpi_daily", frame, provisional_stamp())[1]


def test_kpi_daily_completeness_is_null_exactly_where_stated_not_applicable() -> None:
    stated = _kpi_frame(
        [
            ("L1", "L1-M1", 0.97, None),
            ("L1", "L1-M2", None, "no power readings for this day; " + NO_SENSORS),
            ("L1", None, 0.97, None),  # the line: mean over its machines with tags
            ("L2", "L2-M1", None, NO_SENSORS),
            ("L2", None, None, NO_SENSORS_LINE),
        ]
    )
    check = _kpi_check(stated)
    assert check.passed, check.failures

    # A null without the statement (a tagged machine, or a line) fails, whatever else the note says.
    for line_id, machine_id in (("L1", "L1-M1"), ("L1", None)):
        broken = stated.copy()
        row = (broken["line_id"] == line_id) & (
            broken["machine_id"] == machine_id if machine_id else broken["machine_id"].isna()
        )
        broken.loc[row, "data_completeness"] = None
        broken.loc[row, "kpi_note"] = "no MES state data for this day"
        check = _kpi_check(broken)
        assert not check.passed
        assert any(
            f.startswith("expect_column_values_to_not_be_null(data_completeness)")
            for f in check.failures
        ), check.failures
    # The statement with a value contradicts itself: fails too.
    contradiction = stated.copy()
    contradiction.loc[contradiction["machine_id"] == "L2-M1", "data_completeness"] = 0.0
    check = _kpi_check(contradiction)
    assert not check.passed
    assert any(
        f.startswith("expect_column_values_to_be_null(data_completeness)") for f in check.failures
    ), check.failures
    # Measured completeness stays a share.
    out_of_range = stated.copy()
    out_of_range.loc[out_of_range["machine_id"] == "L1-M1", "data_completeness"] = 1.2
    assert not _kpi_check(out_of_range).passed


def test_kpi_daily_nullable_completeness_is_the_major_bump_the_lock_rule_asks_for() -> None:
    # data_completeness was "double not null" in 1.0.0: making it nullable breaks readers that
    # relied on it, so a minor bump would not do (data_contracts/README.md, versions and the lock).
    contract = load_published_contract("kpi_daily")
    assert contract["version"] == "2.0.0"
    assert not contract["columns"]["data_completeness"]["required"]
    lock = copy.deepcopy(load_contract_lock())
    assert lock["kpi_daily"]["1.0.0"]["data_completeness"] == "double not null"
    del lock["kpi_daily"]["2.0.0"]
    assert lock_violations(contract, lock) == []
    assert lock_violations({**contract, "version": "1.1.0"}, lock)
