"""Connector views: capacity_supply reshaped for the planning systems that read it (DESIGN §3.4).

The views live in each version's catalog.duckdb over the ``capacity_supply`` table of the same file,
so a reader sees them switch together with the tables. Contracts: data_contracts/published/<view>.yml.

Choices (documented in the contracts and data_contracts/README.md):
- SAP IBP plans lines weekly against versions: ``ibp_capasupply`` holds line resources, week
  buckets, the baseline scenario, and one IBP version per quantile (IBP_VERSIONS). p10 is the
  pessimistic case of available capacity, hence DOWNSIDE.
- Kinaxis RapidResponse reads a rate over an effective date range: ``kinaxis_constraint_available``
  holds the p50 weekly line capacity per day (capacity / days in the bucket) for every scenario,
  EffectiveOutDate = bucket_end, exclusive (the next Monday for a whole week).
- o9 reads long format: ``o9_resource_capacity`` holds every resource (lines and machines), week
  buckets, the baseline scenario, with measures 'Available Hours P10|P50|P90' and
  'Capacity Units P10|P50|P90'.
"""

from __future__ import annotations

# The plan-of-record scenario; IBP and o9 get only this one (what-ifs stay in capacity_supply).
BASELINE_SCENARIO = "baseline"
IBP_VERSIONS: dict[str, str] = {"p10": "DOWNSIDE", "p50": "BASELINE", "p90": "UPSIDE"}

_IBP_VERSION_CASE = " ".join(f"when '{q}' then '{v}'" for q, v in IBP_VERSIONS.items())

VIEWS: dict[str, str] = {
    "ibp_capasupply": f"""
        select
            resource_id as "RESID",
            site_id as "LOCID",
            cast(date_trunc('week', bucket_start) as timestamp) as "PERIODID_TSTAMP",
            capacity_units as "CAPASUPPLY",
            case quantile {_IBP_VERSION_CASE} end as "VERSIONID",
        from capacity_supply
        where resource_level = 'line'
            and bucket_grain = 'week'
            and scenario_id = '{BASELINE_SCENARIO}'
    """,
    "kinaxis_constraint_available": """
        select
            resource_id as "Constraint",
            site_id as "Site",
            bucket_start as "EffectiveInDate",
            bucket_end as "EffectiveOutDate",
            capacity_units / date_diff('day', bucket_start, bucket_end) as "Rate",
            scenario_id as "Scenario",
        from capacity_supply
        where resource_level = 'line'
            and bucket_grain = 'week'
            and quantile = 'p50'
    """,
    "o9_resource_capacity": f"""
        select
            resource_id as "Resource",
            site_id as "Location",
            cast(date_trunc('week', bucket_start) as date) as "Time",
            'Available Hours ' || upper(quantile) as "Measure",
            available_hours as "Value",
        from capacity_supply
        where bucket_grain = 'week' and scenario_id = '{BASELINE_SCENARIO}'
        union all
        select
            resource_id as "Resource",
            site_id as "Location",
            cast(date_trunc('week', bucket_start) as date) as "Time",
            'Capacity Units ' || upper(quantile) as "Measure",
            capacity_units as "Value",
        from capacity_supply
        where bucket_grain = 'week' and scenario_id = '{BASELINE_SCENARIO}'
    """,
}
