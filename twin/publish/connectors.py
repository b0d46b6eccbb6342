"""Connector views: published tables reshaped for the planning systems that read them (DESIGN §3.4).

The views live in each version's catalog.duckdb over the tables of the same file (``capacity_supply``
and ``capacity_feasibility``), so a reader sees them switch together with the tables. Contracts:
data_contracts/published/<view>.yml.

Choices (documented in the contracts and data_contracts/README.md):
- SAP IBP plans lines weekly against versions: ``ibp_capasupply`` holds line resources, week
  buckets, the baseline scenario, and one IBP version per quantile (IBP_VERSIONS). p10 is the
  pessimistic case of available capacity, hence DOWNSIDE.
- Kinaxis RapidResponse reads a rate over an effective date range: ``kinaxis_constraint_available``
  holds the p50 weekly line capacity per day for every scenario, EffectiveOutDate = bucket_end,
  exclusive (the next Monday). A whole week's range starts at bucket_start (Rate = capacity / 7);
  the horizon's partial first week (capacity_supply ``is_partial``) starts at the site-local date
  of ``covered_from_at`` (the last data time, that day counted whole), so Rate = capacity / the days
  the horizon covers, not a seventh of the rest of the week.
- o9 reads long format: ``o9_resource_capacity`` holds every resource (lines and machines), week
  buckets, the baseline scenario, with measures 'Available Hours P10|P50|P90' and
  'Capacity Units P10|P50|P90'.
- The demand plan against capacity (``capacity_feasibility``, whole weeks only) gets one view per
  system with the table's figures as they are, in the same shapes as the capacity views:
  ``ibp_capacity_feasibility`` (baseline, one row per line-week, the three quantiles as three key
  figures: CAPASUPPLY, CAPASUPPLYDOWNSIDE, CAPASUPPLYUPSIDE instead of one row per IBP version, so
  demand, P(meet demand) and status are not repeated), ``kinaxis_capacity_feasibility`` (every
  scenario, weekly totals over [EffectiveInDate, EffectiveOutDate), not rates: the figures are
  counted over the week, and a P(meet demand) has no daily share) and ``o9_capacity_feasibility``
  (baseline, long, FEASIBILITY_MEASURES; status is text, so it has no measure: o9 derives it from
  'P(Meet Demand)' by the thresholds of capacity_feasibility.status: feasible p >= 0.9, at_risk
  0.5 <= p < 0.9, infeasible p < 0.5).
"""

from __future__ import annotations

# The plan-of-record scenario; IBP and o9 get only this one (what-ifs stay in capacity_supply).
BASELINE_SCENARIO = "baseline"
IBP_VERSIONS: dict[str, str] = {"p10": "DOWNSIDE", "p50": "BASELINE", "p90": "UPSIDE"}
# o9 measure -> capacity_feasibility column (the Load Ratio row is left out where it is null).
FEASIBILITY_MEASURES: dict[str, str] = {
    "Demand": "demand_units",
    "Capacity Units P10": "capacity_units_p10",
    "Capacity Units P50": "capacity_units_p50",
    "Capacity Units P90": "capacity_units_p90",
    "P(Meet Demand)": "p_meet_demand",
    "Shortfall P50": "shortfall_units_p50",
    "Load Ratio P50": "load_ratio_p50",
}

_IBP_VERSION_CASE = " ".join(f"when '{q}' then '{v}'" for q, v in IBP_VERSIONS.items())
_O9_FEASIBILITY = "\n        union all\n".join(
    f"""
        select
            line_id as "Resource",
            site_id as "Location",
            cast(date_trunc('week', bucket_start) as date) as "Time",
            '{measure}' as "Measure",
            cast({column} as double) as "Value",
        from capacity_feasibility
        where bucket_grain = 'week'
            and scenario_id = '{BASELINE_SCENARIO}'
            and {column} is not null"""
    for measure, column in FEASIBILITY_MEASURES.items()
)

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
    # A partial first week starts where the horizon does: at the week's first day bucket (the
    # engine writes one for every day of the horizon, the first on the day of covered_from_at).
    # Without day buckets, covered_from_at's date: it is UTC, so near local midnight a day off.
    "kinaxis_constraint_available": """
        with weeks as (
            select *
            from capacity_supply
            where resource_level = 'line'
                and bucket_grain = 'week'
                and quantile = 'p50'
        ),
        first_days as (
            select
                site_id,
                resource_id,
                scenario_id,
                cast(date_trunc('week', bucket_start) as date) as week_start,
                min(bucket_start) as first_day,
            from capacity_supply
            where resource_level = 'line'
                and bucket_grain = 'day'
                and quantile = 'p50'
            group by all
        ),
        ranges as (
            select
                w.*,
                case
                    when w.is_partial then greatest(
                        w.bucket_start, coalesce(d.first_day, cast(w.covered_from_at as date))
                    )
                    else w.bucket_start
                end as effective_in,
            from weeks as w
            left join first_days as d
                on d.site_id = w.site_id
                and d.resource_id = w.resource_id
                and d.scenario_id = w.scenario_id
                and d.week_start = w.bucket_start
        )
        select
            resource_id as "Constraint",
            site_id as "Site",
            effective_in as "EffectiveInDate",
            bucket_end as "EffectiveOutDate",
            capacity_units / date_diff('day', effective_in, bucket_end) as "Rate",
            scenario_id as "Scenario",
        from ranges
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
    "ibp_capacity_feasibility": f"""
        select
            line_id as "RESID",
            site_id as "LOCID",
            cast(date_trunc('week', bucket_start) as timestamp) as "PERIODID_TSTAMP",
            plan_version as "PLANVERSION",
            demand_units as "DEMANDQTY",
            capacity_units_p50 as "CAPASUPPLY",
            capacity_units_p10 as "CAPASUPPLYDOWNSIDE",
            capacity_units_p90 as "CAPASUPPLYUPSIDE",
            p_meet_demand as "PMEETDEMAND",
            shortfall_units_p50 as "SHORTFALLQTY",
            load_ratio_p50 as "LOADRATIO",
            status as "FEASSTATUS",
        from capacity_feasibility
        where bucket_grain = 'week' and scenario_id = '{BASELINE_SCENARIO}'
    """,
    # Through a CTE: DuckDB keeps a view column's stored name when its alias differs from the
    # column only in case (status as "Status" would be described as status).
    "kinaxis_capacity_feasibility": """
        with feasibility as (select * from capacity_feasibility where bucket_grain = 'week')
        select
            line_id as "Constraint",
            site_id as "Site",
            bucket_start as "EffectiveInDate",
            bucket_end as "EffectiveOutDate",
            scenario_id as "Scenario",
            plan_version as "PlanVersion",
            demand_units as "Demand",
            capacity_units_p10 as "CapacityP10",
            capacity_units_p50 as "CapacityP50",
            capacity_units_p90 as "CapacityP90",
            p_meet_demand as "ProbabilityMeetDemand",
            shortfall_units_p50 as "Shortfall",
            load_ratio_p50 as "LoadRatio",
            status as "Status",
        from feasibility
    """,
    "o9_capacity_feasibility": _O9_FEASIBILITY + "\n    ",
}
