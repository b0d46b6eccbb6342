import json

import pandas as pd
import pytest

import data_contracts
from data_contracts import ContractError, load_contract, load_suite
from data_contracts.validation import run_suite
from twin.ingest.sources import SPECS, lake_schema
from twin.paths import SOURCES


@pytest.mark.parametrize("name", SOURCES)
def test_every_suite_loads_and_its_contract_matches_the_lake(name):
    suite = load_suite(name)
    declared = json.loads((data_contracts.SUITES_DIR / f"{name}.json").read_text())["expectations"]
    assert len(suite.expectations) == len(declared)
    contract = load_contract(name)
    assert contract["suite"] == name
    assert {"owner", "grain", "freshness", "version", "columns"} <= set(contract)
    assert list(contract["columns"]) == lake_schema(name).names
    for column in SPECS[name].columns:
        assert contract["columns"][column.name]["required"] is column.required


def _write_suite(tmp_path, monkeypatch, expectations):
    monkeypatch.setattr(data_contracts, "SUITES_DIR", tmp_path)
    (tmp_path / "probe.json").write_text(
        json.dumps({"name": "probe", "expectations": expectations})
    )


def test_misspelled_expectation_type_fails_loading(tmp_path, monkeypatch):
    _write_suite(
        tmp_path,
        monkeypatch,
        [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
            {"type": "expect_column_valuez_to_not_be_null", "kwargs": {"column": "a"}},
        ],
    )
    with pytest.raises(ContractError, match="#1"):
        load_suite("probe")


def test_bad_keyword_fails_loading(tmp_path, monkeypatch):
    _write_suite(
        tmp_path,
        monkeypatch,
        [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_valu": 0}}],
    )
    with pytest.raises(ContractError, match="min_valu"):
        load_suite("probe")


def test_gx_outcome_fails_for_a_frame_that_breaks_a_rule():
    frame = pd.DataFrame(
        {
            "work_order_id": ["W1", "W1"],
            "machine_id": ["L1-M01", "L1-M01"],
            "type": ["CORRECTIVE", "REPAIR"],
            "failure_mode": [None, None],
            "reported_ts": pd.to_datetime(["2026-03-01", "2026-03-01"]),
            "start_ts": pd.to_datetime(["2026-03-01", "2026-03-01"]),
            "end_ts": pd.to_datetime(["2026-03-02", None]),
            "batch_id": ["b", "b"],
            "loaded_at": pd.to_datetime(["2026-03-03", "2026-03-03"]),
        }
    )
    outcome = run_suite(
        frame,
        load_suite("cmms"),
        parameters={
            "latest_allowed_ts": pd.Timestamp("2026-03-03"),
            "machine_ids": ["L1-M01"],
            "product_ids": [],
        },
    )
    assert not outcome.success
    assert any(f.startswith("expect_column_values_to_be_in_set(type)") for f in outcome.failed)
    assert any(
        f.startswith("expect_column_values_to_be_unique(work_order_id)") for f in outcome.failed
    )
    assert outcome.evaluated == len(load_suite("cmms").expectations)
