"""Valid published tables (every contract column) for publication tests: two weeks, two scenarios."""

from __future__ import annotations

import datetime as dt

import pandas as pd

WEEKS = [dt.date(2026, 11, 23), dt.date(2026, 11, 30)]  # Mondays
SCENARIOS = ["baseline", "overtime"]
RESOURCES = [("line", "L1"), ("machine", "L1-M1"), ("machine", "L1-M2")]
LINEAGE = {
    "model_version": "failure_model v3",
    "batch_ids": ["b1", "b2", "b3"],
    "data_window": {"start": "2026-11-01", "end": "2026-11-21"},
    "scenario_set": "scenarios@abc123",
    "run_id": "dagster-run-42",
}


def make_tables(scale: float = 1.0) -> dict[str, pd.DataFrame]:
    """Valid publish.* tables for one site, one line of two machines, two weeks, two scenarios."""
    capacity = []
    for scenario in SCENARIOS:
        for level, resource in RESOURCES:
            for week in WEEKS:
                for quantile, factor in (("p10", 0.8), ("p50", 0.9), ("p90", 0.95)):
                    available = 80.0 * factor
                    capacity.append(
                        {
                            "site_id": "S1",
                            "line_id": "L1",
                            "resource_id": resource,
                            "resource_level": level,
                            "bucket_grain": "week",
                            "bucket_start": week,
                            "bucket_end": week + dt.timedelta(days=7),
                            "scenario_id": scenario,
                            "quantile": quantile,
                            "calendar_hours": 80.0,
                            "planned_downtime_hours": 2.0,
                            "expected_unplanned_downtime_hours": 78.0 - available,
                            "available_hours": available,
                            "capacity_units": available * 100 * scale,
                            "uom": "parts",
                            "rate_units_per_hour": 100.0 * scale,
                            "bottleneck_share": 1.0 if level == "line" else 0.5,
                            "is_partial": False,
                            "covered_from_at": dt.datetime.combine(week, dt.time()),
                            "model_version": None,
                            "publication_id": None,
                            "published_at": None,
                        }
                    )
    constraint = [
        {
            "site_id": "S1",
            "line_id": "L1",
            "scenario_id": scenario,
            "bucket_grain": "week",
            "bucket_start": week,
            "bucket_end": week + dt.timedelta(days=7),
            "machine_id": machine,
            "bottleneck_share": share,
            "rank": rank,
            "publication_id": None,
        }
        for scenario in SCENARIOS
        for week in WEEKS
        for machine, share, rank in (("L1-M2", 0.7, 1), ("L1-M1", 0.3, 2))
    ]
    risk = [
        {
            "site_id": "S1",
            "machine_id": machine,
            "as_of": dt.datetime(2026, 11, 21, 23),
            "p_failure_72h": p,
            "hours_to_failure_p10": 20.0,
            "hours_to_failure_p50": 90.0,
            "hours_to_failure_p90": 300.0,
            "failure_mode": "bearing_wear",
            "model_version": "failure_model v3",
            "publication_id": None,
            "risk_drivers": "vibration_mean_24h +4.1σ (Δp +0.30)",
            "driver_1": "vibration_mean_24h",
            "driver_2": None,
            "driver_3": None,
        }
        for machine, p in (("L1-M1", 0.12), ("L1-M2", 0.4))
    ]
    kpi = [
        {
            "site_id": "S1",
            "line_id": "L1",
            "machine_id": machine,
            "date": dt.date(2026, 11, 20),
            "availability": 0.9,
            "performance": 0.95,
            "quality": 0.98,
            "oee": 0.8379,
            "planned_busy_hours": 16.0,
            "production_hours": 14.4,
            "unplanned_downtime_hours": 1.6,
            "produced_qty": 1000.0,
            "good_qty": 980.0,
            "mtbf_hours": 300.0,
            "mttr_hours": 2.5,
            "energy_kwh_per_unit": 0.3,
            "first_pass_yield": 0.98,
            "scrap_rate": 0.02,
            "data_completeness": 0.99,
            "kpi_note": None,
            "publication_id": None,
        }
        for machine in ("L1-M1", "L1-M2", None)
    ]
    effect = [
        {
            "site_id": "S1",
            "line_id": "L1",
            "scenario_id": "baseline",
            "bucket_grain": "week",
            "bucket_start": week,
            "bucket_end": week + dt.timedelta(days=7),
            "is_partial": False,
            "uom": "parts",
            "machines_with_risk": 2,
            "capacity_p50_with_risk": 72.0 * 100 * scale,
            "capacity_p50_history_only": 75.0 * 100 * scale,
            "p50_difference_units": -3.0 * 100 * scale,
            "p50_difference_share": -0.04,
            "capacity_p10_with_risk": 64.0 * 100 * scale,
            "capacity_p10_history_only": 66.0 * 100 * scale,
            "model_version": None,
            "publication_id": None,
        }
        for week in WEEKS
    ]
    feasibility = [
        {
            "site_id": "S1",
            "line_id": "L1",
            "bucket_grain": "week",
            "bucket_start": week,
            "bucket_end": week + dt.timedelta(days=7),
            "scenario_id": "baseline",
            "plan_version": "v1",
            "demand_units": 70.0 * 100 * scale,
            "split_demand_units": 0.0,
            "capacity_units_p10": 64.0 * 100 * scale,
            "capacity_units_p50": 72.0 * 100 * scale,
            "capacity_units_p90": 78.0 * 100 * scale,
            "p_meet_demand": 0.6,
            "shortfall_units_p50": 0.0,
            "load_ratio_p50": 70 / 72,
            "status": "at_risk",
            "assumed_capacity_units": None,
            "gap_vs_assumed_pct": None,
            "publication_id": None,
        }
        for week in WEEKS
    ]
    return {
        "capacity_supply": pd.DataFrame(capacity),
        "machine_failure_risk": pd.DataFrame(risk),
        "kpi_daily": pd.DataFrame(kpi),
        "constraint_map": pd.DataFrame(constraint),
        "prediction_effect": pd.DataFrame(effect),
        "capacity_feasibility": pd.DataFrame(feasibility),
    }
