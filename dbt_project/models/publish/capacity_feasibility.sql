{#- The lake folder may not exist yet (nothing simulated, or no demand plan landed): read_parquet
    fails on a glob without matches, so build from an empty, typed input instead and let the
    publication's contract check decide. The source is referenced either way for lineage. -#}
{%- set input_source = source('simulation_output', 'capacity_feasibility') -%}
{%- set input_glob = var('lake_root', var('twin_home', env_var('TWIN_HOME', 'data')) ~ '/lake') ~ '/simulation/capacity_feasibility/*.parquet' -%}
{%- set input_has_files = execute
    and run_query("select count(*) from glob('" ~ input_glob ~ "')").columns[0].values()[0] > 0 -%}
-- The current demand plan against the simulated capacity, per line, week and scenario
-- (twin/simulation/feasibility.py, DESIGN §3.5).
with

feasibility_runs as (

    {% if input_has_files %}
    select * from {{ input_source }}
    {% else %}
    select
        cast(null as varchar) as site_id,
        cast(null as varchar) as line_id,
        cast(null as varchar) as bucket_grain,
        cast(null as date) as bucket_start,
        cast(null as date) as bucket_end,
        cast(null as varchar) as scenario_id,
        cast(null as varchar) as plan_version,
        cast(null as double) as demand_units,
        cast(null as double) as capacity_units_p10,
        cast(null as double) as capacity_units_p50,
        cast(null as double) as capacity_units_p90,
        cast(null as double) as p_meet_demand,
        cast(null as double) as shortfall_units_p50,
        cast(null as double) as load_ratio_p50,
        cast(null as varchar) as status,
        cast(null as double) as assumed_capacity_units,
        cast(null as double) as gap_vs_assumed_pct,
        cast(null as double) as split_demand_units
    where false
    {% endif %}

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(line_id as varchar) as line_id,
        cast(bucket_grain as varchar) as bucket_grain,
        cast(bucket_start as date) as bucket_start,
        cast(bucket_end as date) as bucket_end,
        cast(scenario_id as varchar) as scenario_id,
        cast(plan_version as varchar) as plan_version,
        cast(demand_units as double) as demand_units,
        cast(capacity_units_p10 as double) as capacity_units_p10,
        cast(capacity_units_p50 as double) as capacity_units_p50,
        cast(capacity_units_p90 as double) as capacity_units_p90,
        cast(p_meet_demand as double) as p_meet_demand,
        cast(shortfall_units_p50 as double) as shortfall_units_p50,
        cast(load_ratio_p50 as double) as load_ratio_p50,
        cast(status as varchar) as status,
        -- Stamped by the publication step.
        cast(null as varchar) as publication_id,
        cast(assumed_capacity_units as double) as assumed_capacity_units,
        cast(gap_vs_assumed_pct as double) as gap_vs_assumed_pct,
        cast(split_demand_units as double) as split_demand_units,
    from feasibility_runs

)

select * from final
